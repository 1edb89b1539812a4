"""Translations for pages and the labeling page's scripts, read from `.po` catalogues at start-up.

Catalogues live in `i18n/<locale>/LC_MESSAGES/messages.po` and are parsed with Babel when
first needed, so nothing is compiled. Message ids are the English text; an id missing from
a catalogue shows in English (a test keeps the Korean catalogue complete).
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
LOCALE_NAMES = {"ko": "한국어", "en": "English"}


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a message for translation where it is defined; it is translated where shown."""
    return message


def normalise_locale(value: str | None) -> str | None:
    """`ko`, `ko-KR`, `ko_KR` → `ko`; None for a language we do not offer."""
    if not value:
        return None
    base = value.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The first offered locale in an `Accept-Language` header, by the browser's weights."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        locale = normalise_locale(tag)
        if locale is not None and weight > 0:
            ranked.append((-weight, index, locale))
    return min(ranked)[2] if ranked else None


@cache
def translations(locale: str) -> Translations:
    """The gettext translations for `locale`: the `.po` is parsed, then written as an in-memory
    `.mo` so gettext's own lookup (plural rules included) does the work."""
    path = resources.files("datadam.i18n").joinpath(locale, "LC_MESSAGES", "messages.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext_for(locale: str):  # type: ignore[no-untyped-def]
    """A `gettext` bound to `locale`, for strings built in Python (JS tables, flash messages)."""
    return translations(locale).gettext
