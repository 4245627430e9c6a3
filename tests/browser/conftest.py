"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server.

Write them in tests/browser/test_<feature>.py; they are marked `browser` automatically. The
`page` fixture fails a test whose page breaks the Content-Security-Policy or throws a JS error.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.factories import PASSWORD
from tests.plugins.services import service_missing

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# (fixtures, assertions) are still synchronous, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not os.path.exists(CHROMIUM):
        service_missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_FLAGS}


# Playwright's sync API keeps an event loop running in the main thread while it is started.
# Started for the whole session it would break every later test that calls asyncio.run(), so
# it lives only as long as the browser tests.
@pytest.fixture(scope="package")
def playwright():
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="package")
def browser(playwright, browser_type_launch_args):
    chromium = playwright.chromium.launch(**browser_type_launch_args)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 1000}
    )
    page = context.new_page()
    problems: list[str] = []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    yield page
    context.close()
    assert problems == [], "the page broke in the browser"


@pytest.fixture
def log_in(page):
    """Log `user` in through the real login form; returns the page."""

    def do(user, password: str = PASSWORD):
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return do


@pytest.fixture
def logged_in_page(log_in, user, team):
    """A page logged in as `user` (the admin of the `team` fixture)."""
    return log_in(user)
