"""Debian's Chromium driven by Playwright: where it is, how it starts here, and opening a page that records
every script error and every Content Security Policy refusal (the ``browser`` fixture fails a test on any)."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.async_api import Browser, Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PAGE_ERRORS: list[str] = []  # uncaught errors in the page's scripts, from every page a test opened


async def open_page(browser: Browser, url: str, width: int = 1280, height: int = 1700) -> Page:
    page = await browser.new_page(viewport={"width": width, "height": height})
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    page.on("console", lambda message: PAGE_ERRORS.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.set_default_timeout(15_000)
    await page.goto(url)
    return page
