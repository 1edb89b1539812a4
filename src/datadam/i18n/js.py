"""Strings the labeling page's scripts show, sent to the page in its boot block (`strings`).

Scripts call `t("Submit")`; the id is the English text. Every literal `t("...")` call in
`web/static/js/**.js` is found automatically; ids a script builds at run time (looked up
from a table) are listed in `JS_MESSAGES`. `python -m datadam.i18n.catalog` brings new ids
into the catalogues.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

STATIC_JS = Path(__file__).resolve().parent.parent / "web" / "static" / "js"
# t("...") or t('...') with a plain string literal as the first argument.
_CALL = re.compile(r"""\bt\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")

JS_MESSAGES: tuple[str, ...] = (
    # save state
    "Not saved yet",
    "Saved on this device",
    "Submitting…",
    "Submitted",
    "Offline — will retry",
    "Could not submit",
    "Loading the next item…",
    # actions and messages
    "Submit",
    "Skip",
    "Skip this item",
    "Cancel",
    "Why do you skip this item?",
    "The text is unclear or broken",
    "I am not sure of the answer",
    "Inappropriate or personal content",
    "The item does not load",
    "Other reason",
    "Please describe the reason",
    "Please answer: %s",
    "Your earlier draft of this item was restored.",
    "Your time for this item ran out and others have finished it. Please take the next item.",
    "This item was already submitted.",
    "The server refused the answer: %s",
    "Your session has ended. Please log in again; your work is kept on this device.",
    "Nothing left to label in this project. Thank you!",
    "Back to my projects",
    "This control cannot be shown yet (%s).",
    "Keyboard shortcuts",
    "Submit the answer",
    "Show or hide this help",
    "Item %s",
    "Pick a label",
    "Item",
)


def _literal(token: str) -> str:
    if token.startswith("'"):
        token = '"' + token[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return str(json.loads(token))


def scan_scripts(root: Path = STATIC_JS) -> dict[str, str]:
    """Message ids of literal `t()` calls in the page scripts, with the file each came from."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.js")):
        for match in _CALL.finditer(path.read_text(encoding="utf-8")):
            try:
                msgid = _literal(match.group(1))
            except ValueError:
                continue
            if msgid:
                found.setdefault(msgid, str(path.relative_to(root.parent.parent)))
    return found


@cache
def script_messages() -> tuple[str, ...]:
    """Every id the page scripts may ask `t()` for: the table above plus the scanned calls."""
    return tuple(dict.fromkeys([*JS_MESSAGES, *scan_scripts()]))
