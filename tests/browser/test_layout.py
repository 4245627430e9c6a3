"""Layout in Chromium: long words wrap, the dashboard and lists fit a 390 px phone, and the
worksheet does not move under the pointer while it recalculates."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from workloads.models import Workload
from workloads.services.workloads import workload_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE_WIDTH = "document.documentElement.scrollWidth"


def log_in_as_demo(page: Page, live_server, settings) -> None:
    settings.DEBUG = True  # seed_demo creates the demo/demo login only in development
    call_command("seed_demo")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page).to_have_title(re.compile("Dashboard"))


def test_a_ten_thousand_character_word_wraps_instead_of_widening_pages(
    live_server, page: Page, settings
):
    log_in_as_demo(page, live_server, settings)
    workload = Workload.objects.get(slug="ticket-classifier")
    word = "Unbroken" * 1250  # 10,000 characters
    Workload.objects.filter(pk=workload.pk).update(name=word[:120], description=word)
    for path in ("", "workloads/", "workloads/ticket-classifier/", "flags/"):
        page.goto(f"{live_server.url}/t/demo/{path}")
        assert page.evaluate(PAGE_WIDTH) <= 1440, path


def test_every_page_reachable_from_the_dashboard_fits_a_phone_and_a_laptop(
    live_server, page: Page, settings
):
    log_in_as_demo(page, live_server, settings)
    page.set_viewport_size({"width": 390, "height": 844})
    start = f"{live_server.url}/t/demo/"
    todo, seen, too_wide = [start], set(), {}
    while todo:
        url = todo.pop(0)
        seen.add(url)
        assert page.goto(url).status == 200, url
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate(PAGE_WIDTH)
        if width > 390:
            too_wide[url.removeprefix(live_server.url)] = width
        page.set_viewport_size({"width": 1280, "height": 844})  # and on a laptop
        width = page.evaluate(PAGE_WIDTH)
        if width > 1280:
            too_wide[url.removeprefix(live_server.url)] = width
        page.set_viewport_size({"width": 390, "height": 844})
        for href in page.eval_on_selector_all("a[href^='/t/demo/']", LINKS):
            link = live_server.url + href.split("#")[0]
            if link not in seen and link not in todo and not NOT_PAGES.search(href):
                todo.append(link)
    assert len(seen) >= 40  # the demo team's pages, tabs, details and forms
    assert too_wide == {}
    # Table rows become labelled blocks, so what a column said is still said.
    for path in ("", "workloads/"):
        page.goto(f"{start}{path}")
        row = page.locator("tr[data-workload='ticket-classifier']")
        expect(row.get_by_test_id("monthly-requests")).to_be_visible()


LINKS = "links => links.map(link => link.getAttribute('href'))"
NOT_PAGES = re.compile(r"export|download|\.(zip|csv|json|md|jsonl)\b|logout")


@pytest.fixture
def worksheet_url(live_server, team, user):
    workload_create(
        team=team,
        actor=user,
        slug="persona", name="Persona assistant", model="gpt-4o-mini",
        parameters={"monthly_requests": 500_000, "user_tokens": 50,
                    "prompt_overhead_tokens": 500, "output_tokens": 200},
    )  # fmt: skip
    return f"{live_server.url}/t/{team.slug}/worksheets/new/?workload=persona"


def test_the_recalculating_indicator_moves_nothing(logged_in_page, worksheet_url):
    page = logged_in_page
    page.goto(worksheet_url)
    save = page.get_by_role("button", name="Save as new version")
    spinner = page.locator("#recalc-spinner")
    before = save.bounding_box()
    expect(spinner).to_be_hidden()
    # htmx marks the indicator with `htmx-request` while a recalculation runs.
    spinner.evaluate("el => el.classList.add('htmx-request')")
    expect(spinner).to_be_visible()
    assert save.bounding_box() == before
    spinner.evaluate("el => el.classList.remove('htmx-request')")
    assert save.bounding_box() == before


def test_invalid_inputs_keep_the_last_results_and_outline_the_field(logged_in_page, worksheet_url):
    page = logged_in_page
    page.goto(worksheet_url)
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$101.25")

    page.fill("#id_monthly_requests", "lots")

    expect(page.locator("#results-status")).to_contain_text(
        "Not recalculated. Fix the outlined field; the figures shown are from the last valid inputs"
    )
    expect(page.locator("#results-status")).to_contain_text("Monthly requests: must be a number")
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$101.25")  # still there
    expect(page.locator("#id_monthly_requests")).to_have_attribute("aria-invalid", "true")
    outline = page.locator("#id_monthly_requests").evaluate(
        "el => getComputedStyle(el).outlineStyle"
    )
    assert outline == "solid"

    page.fill("#id_monthly_requests", "5000")

    expect(page.locator("#results-status")).to_be_empty()
    expect(page.get_by_test_id("prompt-monthly")).to_have_text("$1.01")
    expect(page.locator("#id_monthly_requests")).not_to_have_attribute("aria-invalid", "true")
