"""Decision record pages: safe markdown on the detail page, the log's query count, roles, and the
create form (success and errors kept next to their fields)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.models import DecisionRecord, DecisionStatus
from teams.markdown import render_markdown
from teams.models import Role
from tests.decisions.records_helpers import build_log, create, update
from tests.factories import DecisionRecordFactory

pytestmark = pytest.mark.django_db
S = DecisionStatus
LOG = "/t/acme/decisions/"

HOSTILE = """Plain **bold** words.

<script>alert(1)</script>

<img src=x onerror=alert(1)>

[x](javascript:alert(1))

<a href="https://example.com" onclick="x()">ok</a>
"""


# --- safe markdown --------------------------------------------------------------------------


def assert_harmless(html: str) -> None:
    lowered = html.lower()
    assert "<script>alert(1)" not in lowered
    assert "onerror" not in lowered
    assert "onclick" not in lowered
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", lowered)
    assert "<img" not in lowered


def test_render_markdown_removes_scripts_handlers_and_javascript_links():
    html = render_markdown(HOSTILE)
    assert_harmless(html)
    assert "<strong>bold</strong>" in html
    assert re.search(r'<a href="https://example.com"[^>]*>ok</a>', html)
    assert 'rel="noopener noreferrer nofollow"' in html


def test_render_markdown_keeps_tables_code_and_lists():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx < y\n```\n\n1. one\n2. two")
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>x &lt; y" in html
    assert "<ol>" in html and "<li>one</li>" in html
    assert render_markdown("") == ""


def test_detail_page_renders_context_and_justification_safely(admin_client, team, user):
    decision = create(
        team,
        user,
        {
            "title": "Hostile",
            "context_and_problem_statement": HOSTILE,
            "justification": HOSTILE,
        },  # fmt: skip
    )
    response = admin_client.get(f"{LOG}{decision.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    # The page's own script tags load static files; none is inline.
    assert "alert(1)</script>" not in html
    assert_harmless(html)
    assert html.count("<strong>bold</strong>") == 2
    assert len(re.findall(r'<a href="https://example.com"[^>]*>ok</a>', html)) == 2


# --- the log's query count ------------------------------------------------------------------


def log_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LOG)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_decision_log_query_count_does_not_grow_with_decisions(admin_client, team, user):
    build_log(team, user, 3, "few")
    admin_client.get(LOG)  # warm the session
    few = log_queries(admin_client)
    build_log(team, user, 12, "many")
    html = admin_client.get(LOG).content.decode()
    assert "15 decisions" in html
    assert "many 11" in html  # the workload names are on the page
    assert log_queries(admin_client) == few


# --- roles ----------------------------------------------------------------------------------


@pytest.fixture
def viewer_client(client, team, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    return client


def test_viewer_reads_the_log_and_detail_but_cannot_transition(viewer_client, team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    log = viewer_client.get(LOG)
    assert log.status_code == 200
    assert decision.title in log.content.decode()
    assert "New decision" not in log.content.decode()
    detail = viewer_client.get(f"{LOG}{decision.number}/")
    assert detail.status_code == 200
    assert decision.title in detail.content.decode()
    assert "/transition/" not in detail.content.decode()

    refused = viewer_client.post(f"{LOG}{decision.number}/transition/", {"status": "proposed"})
    assert refused.status_code == 403
    decision.refresh_from_db()
    assert decision.status == S.DRAFT


def test_outsider_gets_404_for_the_log_and_detail(client, team, other_team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    client.force_login(other_team.memberships.get().user)
    assert client.get(LOG).status_code == 404
    assert client.get(f"{LOG}{decision.number}/").status_code == 404


# --- the create form ------------------------------------------------------------------------


@pytest.fixture
def editor_client(client, team, member_factory):
    client.force_login(member_factory(team, Role.EDITOR))
    return client


def form_data(**overrides) -> dict:
    data = {
        "title": "Classify tickets with a fine-tuned model",
        "date": "2026-11-02",
        "decision_makers": "Ana, Bo",
        "context_and_problem_statement": "Prompted calls are slow.",
        "decision_drivers": "p99 under 500 ms\nformat errors under 1%",
        "option_count": "2",
        "option-0-title": "Prompt engineering",
        "option-0-description": "",
        "option-0-arg_count": "1",
        "option-0-arg-0-kind": "bad",
        "option-0-arg-0-text": "slow p99",
        "option-1-title": "Fine-tuned model",
        "option-1-description": "",
        "option-1-arg_count": "1",
        "option-1-arg-0-kind": "good",
        "option-1-arg-0-text": "pays back",
        "chosen_option": "Fine-tuned model",
        "justification": "It pays back in two months.",
        "approach": "fine-tune",
        "workload": "",
        "trigger_count": "1",
        "trigger-0-metric": "monthly_requests",
        "trigger-0-comparator": "<",
        "trigger-0-threshold": "10000",
        "review_by": "",
        "supersedes": "",
        "note": "first write-up",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_editor_creates_a_decision_through_the_form(editor_client, team):
    response = editor_client.post(f"{LOG}new/", form_data())
    decision = DecisionRecord.objects.get(team=team)
    assert response.status_code == 302
    assert response["Location"] == f"{LOG}{decision.number}/"
    assert decision.status == S.DRAFT
    assert decision.decision_makers == ["Ana", "Bo"]
    assert decision.decision_drivers == ["p99 under 500 ms", "format errors under 1%"]
    assert [o["title"] for o in decision.considered_options] == [
        "Prompt engineering",
        "Fine-tuned model",
    ]
    assert decision.considered_options[1]["arguments"] == [{"kind": "good", "text": "pays back"}]
    assert decision.chosen_option == "Fine-tuned model"
    assert decision.revisit_triggers == [
        {"metric": "monthly_requests", "comparator": "<", "threshold": 10000}
    ]
    assert decision.revisions.get().note == "first write-up"


def test_bad_form_input_rerenders_with_errors_by_the_fields_and_keeps_the_input(editor_client):
    response = editor_client.post(
        f"{LOG}new/", form_data(title="   ", review_by="next week", chosen_option="Magic")
    )
    assert response.status_code == 400
    assert not DecisionRecord.objects.exists()
    html = response.content.decode()
    title_errors = re.search(r'<ul class="errorlist" id="title-errors">(.*?)</ul>', html, re.S)
    assert title_errors and "Must not be blank." in title_errors.group(1)
    review_errors = re.search(r'<ul class="errorlist" id="review_by-errors">(.*?)</ul>', html, re.S)
    assert review_errors and "is not a date" in review_errors.group(1)
    assert "&#x27;Magic&#x27; is not one of the considered options" in html
    # What the user typed is still there.
    assert "It pays back in two months.</textarea>" in html
    assert 'value="Fine-tuned model"' in html
    assert 'value="pays back"' in html
    assert 'value="10000"' in html
    assert 'value="next week"' in html


def test_form_input_with_a_nul_character_is_refused_by_the_field(editor_client):
    response = editor_client.post(f"{LOG}new/", form_data(workload="ticket\x00classifier"))

    assert response.status_code == 400
    assert not DecisionRecord.objects.exists()
    html = response.content.decode()
    workload_errors = re.search(
        r'<ul class="errorlist" id="workload-errors">(.*?)</ul>', html, re.S
    )
    assert workload_errors and "Null characters are not allowed." in workload_errors.group(1)


def test_an_error_on_a_list_item_is_shown_on_its_field_naming_the_item(editor_client):
    long_name = "x" * 501
    response = editor_client.post(
        f"{LOG}new/",
        form_data(decision_drivers=f"p99 under 500 ms\n{'y' * 501}", consulted=f"Cy, {long_name}"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    drivers = re.search(
        r'<ul class="errorlist" id="decision_drivers-errors">(.*?)</ul>', html, re.S
    )
    assert drivers and "Line 2: " in drivers.group(1)
    consulted = re.search(r'<ul class="errorlist" id="consulted-errors">(.*?)</ul>', html, re.S)
    assert consulted and "Name 2: " in consulted.group(1)
    assert re.search(r'<textarea id="decision_drivers"[^>]*aria-invalid="true"', html)


def test_a_diff_of_revisions_that_are_not_numbers_is_a_400_that_says_so(admin_client, team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    update(decision, user, {"title": "Renamed"})
    url = f"{LOG}{decision.number}/diff/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.get(f"{url}?from=abc")
    assert response.status_code == 400
    html = response.content.decode()
    assert "“abc” is not a revision number: showing revision 1 instead." in html
    assert "Changes from revision 1 to 2" in html  # the defaults, not a reversed diff
    assert admin_client.get(f"{url}?from=7").status_code == 404
