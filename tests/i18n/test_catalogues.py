"""Every message the pages and page scripts show has a Korean translation, and the
catalogues load the way the server loads them."""

from __future__ import annotations

import re

from datadam.i18n import from_accept_language, normalise_locale, translations
from datadam.i18n.catalog import collect_msgids, untranslated


def test_every_message_has_a_korean_translation() -> None:
    missing = untranslated("ko")
    assert not missing, (
        "Untranslated in ko (run `python -m datadam.i18n.catalog`, then translate): "
        + ", ".join(repr(m) for m in missing)
    )


def test_translations_keep_their_placeholders() -> None:
    korean = translations("ko")
    for msgid in collect_msgids():
        for pattern in (r"%\(\w+\)s", r"%s"):
            assert sorted(re.findall(pattern, msgid)) == sorted(
                re.findall(pattern, korean.gettext(msgid))
            ), msgid


def test_catalogues_load_and_translate() -> None:
    assert translations("ko").gettext("Log in") == "로그인"
    assert translations("en").gettext("Log in") == "Log in"
    assert translations("ko").gettext("no such message id") == "no such message id"


def test_locale_choice() -> None:
    assert normalise_locale("ko-KR") == "ko"
    assert normalise_locale("fr") is None
    assert from_accept_language("fr-FR,fr;q=0.9,en;q=0.8,ko;q=0.7") == "en"
    assert from_accept_language("ko-KR,ko;q=0.9") == "ko"
    assert from_accept_language("de;q=abc") is None
    assert from_accept_language(None) is None
