"""The crowdworker's pages: their projects, the labeling page and their history."""

from __future__ import annotations

from datadam.web.pages.common import page_router

router = page_router()
