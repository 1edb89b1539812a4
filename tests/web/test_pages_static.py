"""Static checks over templates and page scripts (C-12): no way around escaping, no inline
script or style that the CSP would have to allow."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "src" / "datadam" / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
SCRIPTS = sorted(p for p in (WEB / "static" / "js").rglob("*.js"))


def _without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(^|\s)//[^\n]*", r"\1", source)


def test_templates_never_bypass_escaping() -> None:
    for path in TEMPLATES:
        text = path.read_text()
        for banned in ("|safe", "| safe", "autoescape false", "Markup("):
            assert banned not in text, f"{path.name}: {banned}"


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    for path in TEMPLATES:
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            assert "src=" in attrs or 'type="application/json"' in attrs, f"{path.name}: {attrs}"
        assert not re.search(r"\sstyle=", text), f"{path.name}: inline style"
        assert not re.search(r"\son[a-z]+=", text), f"{path.name}: inline event handler"
        assert not re.search(r"\shx-on", text), f"{path.name}: hx-on handler"
        assert "<style" not in text, f"{path.name}: <style> block"


def test_scripts_build_the_dom_without_html_strings() -> None:
    for path in SCRIPTS:
        text = _without_comments(path.read_text())
        for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert banned not in text, f"{path.relative_to(WEB)}: {banned}"
        assert "new Function" not in text, path.name


def test_post_forms_carry_the_csrf_field() -> None:
    for path in TEMPLATES:
        text = path.read_text()
        for form in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S):
            assert "_partials/csrf.html" in form.group(1), f"{path.name}: POST form without token"
