"""Find every message the pages show, and keep the catalogues in step with them.

Sources: Jinja templates (`_()`/`gettext()` calls and `{% trans %}` blocks), Python page
modules (`N_()`, `_()`), and the table of strings the labeling page's scripts use
(`i18n/js.py`). Run `python -m datadam.i18n.catalog` after adding text: it adds new ids
to every catalogue (empty in Korean, so the completeness test names them) and reports
the ones still untranslated.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po

from datadam.i18n import LOCALES

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [PACKAGE / "web" / "templates"]
PYTHON_FILES = [PACKAGE / "web" / "pages"]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
_JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def _messages(method: str, path: Path, options: dict[str, str]) -> Iterator[tuple[str, str]]:
    with path.open("rb") as handle:
        for lineno, message, _comments, _context in extract(
            method, handle, keywords=KEYWORDS, options=options
        ):
            first = message[0] if isinstance(message, tuple) else message
            if isinstance(first, str) and first:
                yield first, f"{path.relative_to(PACKAGE)}:{lineno}"


def collect_msgids() -> dict[str, str]:
    """Every message id the pages and page scripts use, with where it was first seen."""
    found: dict[str, str] = {}
    for directory in TEMPLATE_DIRS:
        for path in sorted(directory.rglob("*.html")):
            for msgid, where in _messages("jinja2.ext:babel_extract", path, _JINJA_OPTIONS):
                found.setdefault(msgid, where)
    for directory in PYTHON_FILES:
        for path in sorted(directory.rglob("*.py")):
            for msgid, where in _messages("python", path, {}):
                found.setdefault(msgid, where)
    from datadam.i18n.js import JS_MESSAGES, scan_scripts

    for msgid in JS_MESSAGES:
        found.setdefault(msgid, "i18n/js.py")
    for msgid, where in scan_scripts().items():
        found.setdefault(msgid, where)
    return found


def catalogue_path(locale: str) -> Path:
    return Path(str(resources.files("datadam.i18n").joinpath(locale, "LC_MESSAGES", "messages.po")))


def read_catalogue(locale: str) -> Catalog:
    path = catalogue_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="datadam", version="1", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def untranslated(locale: str) -> list[str]:
    """Message ids used somewhere that `locale`'s catalogue has no translation for."""
    catalogue = read_catalogue(locale)
    missing = []
    for msgid in collect_msgids():
        message = catalogue.get(msgid)
        if message is None or not message.string:
            missing.append(msgid)
    return missing


def update_catalogues() -> dict[str, list[str]]:
    """Add new ids to every catalogue (English copies the id); return what is untranslated."""
    ids = collect_msgids()
    report = {}
    for locale in LOCALES:
        catalogue = read_catalogue(locale)
        for msgid, where in ids.items():
            if catalogue.get(msgid) is None:
                catalogue.add(msgid, msgid if locale == "en" else "", auto_comments=[where])
        catalogue.fuzzy = False
        catalogue.header_comment = f"# datadam page messages ({locale}). Ids are the English text."
        path = catalogue_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalogue, width=100, omit_header=False, sort_output=False)
        report[locale] = untranslated(locale)
    return report


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    for locale, missing in update_catalogues().items():
        print(f"{locale}: {len(missing)} untranslated")
        for msgid in missing:
            print(f"  {msgid!r}")
    sys.exit(0)
