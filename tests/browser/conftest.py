"""The ``browser`` fixture: one headless Chromium per test, failing the test on any script error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.chromium import ARGS, CHROMIUM, PAGE_ERRORS


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    PAGE_ERRORS.clear()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        await chromium.close()
    assert not PAGE_ERRORS, f"the page's scripts failed: {PAGE_ERRORS}"
