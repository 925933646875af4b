"""Fixtures of the browser tests: one headless chromium per test module (helpers in jupyter_browser.py)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .jupyter_browser import launch_browser, skip_without_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright; closed when the test module ends."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
