"""Strings the labeling page's scripts show, sent to the page in its boot block (`strings`).

Scripts call `t("Submit")`; the id is the English text. Widget modules add theirs here, and
`python -m datadam.i18n.catalog` brings them into the catalogues.
"""

from __future__ import annotations

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
