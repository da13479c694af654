"""Shared Playwright fixtures for every browser test (room page, LIMS pages).

- ``browser`` (package): Debian's ``/usr/bin/chromium`` launched headless; every test using it is
  skipped, with the reason printed, when chromium (or Playwright) is missing. ``make browser``
  installs chromium and CJK fonts.
- ``page``: a fresh context (tablet-sized viewport, zh-CN, Asia/Shanghai) and page per test.
- ``save_screenshot(page, name)``: saves ``$KUAIJIAN_SCREENSHOTS/name`` only when that variable is
  set (``make screenshots`` sets it to ``docs/screenshots``); returns the path or None.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS_ENV = "KUAIJIAN_SCREENSHOTS"
TABLET = {"width": 1180, "height": 820}
"""Viewport of a 10-11 inch tablet in landscape, the room's usual screen."""
TIMEOUT_MS = 15_000


def _skip(reason: str) -> NoReturn:
    print(f"\nbrowser tests skipped: {reason}", file=sys.__stderr__, flush=True)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless chromium for the browser tests.

    Package scope, not session: Playwright's sync API keeps an event loop running on the main
    thread while it is open, which would break later tests that call ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        _skip(f"{CHROMIUM} is missing (run `make browser` to install Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new page in its own context; closed after the test."""
    context = browser.new_context(viewport=TABLET, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshots_dir() -> Path | None:
    """Where screenshots go (``$KUAIJIAN_SCREENSHOTS``), or None when they are not wanted."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    return Path(folder) if folder else None


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path | None:
    """Save a PNG of ``page`` as ``$KUAIJIAN_SCREENSHOTS/name`` if that variable is set."""
    folder = screenshots_dir()
    if folder is None:
        return None
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
