"""Decision records over the REST API (/api/v1/decisions…): SPEC §6.3 field names, errors,
filters, revisions, transitions, the frozen body, export, scopes, team isolation, numbering
under concurrency and the query count of the list."""

from __future__ import annotations

import threading

import pytest
import yaml
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from decisions.models import DecisionRecord, DecisionRevision, DecisionStatus
from decisions.services.records import decision_create
from decisions.services.status import decision_transition
from tests.decisions.records_helpers import build_log, complete_data, create
from tests.factories import DecisionRecordFactory, WorkloadFactory
from workloads.models import Workload

S = DecisionStatus
URL = "/api/v1/decisions"
SPEC_FIELDS = {
    "context_and_problem_statement", "considered_options", "chosen_option", "justification",
    "approach", "workload", "evidence", "revisit_triggers", "review_by", "supersedes",
    "superseded_by", "needs_revisit", "revisit_reasons", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "decisions:read", "decisions:write")


def transition(api, number: int, status: str):
    return api.post(f"{URL}/{number}/transition", {"status": status}, format="json")


def _fields(response) -> set:
    return {error["field"] for error in response.json()["errors"]}


# --- create ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_post_with_only_a_title_creates_draft_adr_0001(api):
    response = api.post(URL, {"title": "Use RAG for the help centre"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["number"] == 1
    assert body["code"] == "ADR-0001"
    assert body["title"] == "Use RAG for the help centre"
    assert body["status"] == "draft"
    assert set(body) >= SPEC_FIELDS
    stored = DecisionRecord.objects.get()
    assert (stored.number, stored.status) == (1, S.DRAFT)
    assert stored.revisions.count() == 1


@pytest.mark.django_db
def test_post_without_title_is_400_naming_the_title(api):
    response = api.post(URL, {"justification": "because"}, format="json")
    assert response.status_code == 400
    assert "title" in _fields(response)
    assert not DecisionRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"approach": "magic"}, "approach"),
        ({"considered_options": True, "chosen_option": "A"}, "considered_options"),
        (
            {"revisit_triggers": [{"metric": "monthly_requests"}] * 2},
            "revisit_triggers[1].threshold",
        ),
        ({"decision_makers": ["Ana", {"name": "Bo"}]}, "decision_makers[1]"),
        ({"supersedes": [1, "x"]}, "supersedes[1]"),
        (
            {"revisit_triggers": [{"metric": "vibes", "comparator": ">", "threshold": 1}]},
            "revisit_triggers[0].metric",
        ),
        (
            {"revisit_triggers": [{"metric": "monthly_tokens", "comparator": "~", "threshold": 1}]},
            "revisit_triggers[0].comparator",
        ),
    ],
)
def test_post_with_a_bad_field_is_400_naming_it_and_stores_nothing(api, extra, field):
    response = api.post(URL, {"title": "Anything", **extra}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert field in _fields(response)
    assert all(error["message"] for error in body["errors"])
    assert not DecisionRecord.objects.exists()
    assert not DecisionRevision.objects.exists()


# --- read -----------------------------------------------------------------------------------


@pytest.fixture
def three_decisions(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    rag = create(team, user, {"title": "Answer questions with retrieval", "approach": "rag"})
    tuned = DecisionRecordFactory(team=team, author=user, workload=workload.slug)
    decision_transition(decision=tuned, author=user, status=S.PROPOSED)
    plain = create(
        team,
        user,
        {"title": "Keep prompts", "justification": "Latency budget is generous."},
    )
    return rag, tuned, plain


def _numbers(response) -> list[int]:
    assert response.status_code == 200
    return sorted(item["number"] for item in response.json()["results"])


@pytest.mark.django_db
def test_list_filters_by_status_approach_workload_and_text(api, three_decisions):
    rag, tuned, plain = three_decisions
    assert _numbers(api.get(URL)) == [1, 2, 3]
    assert _numbers(api.get(URL, {"status": "proposed"})) == [tuned.number]
    assert _numbers(api.get(URL, {"status": "draft"})) == [rag.number, plain.number]
    assert _numbers(api.get(URL, {"approach": "rag"})) == [rag.number]
    assert _numbers(api.get(URL, {"workload": "ticket-classifier"})) == [tuned.number]
    assert _numbers(api.get(URL, {"q": "latency"})) == [plain.number]
    assert _numbers(api.get(URL, {"q": "retrieval"})) == [rag.number]
    assert _numbers(api.get(URL, {"status": "accepted"})) == []


@pytest.mark.django_db
def test_get_one_decision_by_number(api, three_decisions):
    response = api.get(f"{URL}/2")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == 2
    assert body["workload"] == "ticket-classifier"
    assert body["chosen_option"] == "Fine-tuned model"
    assert api.get(f"{URL}/99").status_code == 404


# --- change, revisions, transitions ---------------------------------------------------------


@pytest.mark.django_db
def test_patch_changes_a_draft_and_lists_the_revision(api, team, user):
    decision = create(team, user, {"title": "Draft"})
    response = api.patch(
        f"{URL}/{decision.number}",
        {"justification": "It pays back in **two** months.", "note": "added the why"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["justification"] == "It pays back in **two** months."
    decision.refresh_from_db()
    assert decision.justification == "It pays back in **two** months."

    revisions = api.get(f"{URL}/{decision.number}/revisions")
    assert revisions.status_code == 200
    results = revisions.json()["results"]
    assert [r["number"] for r in results] == [2, 1]
    newest = results[0]
    assert newest["note"] == "added the why"
    assert newest["author"] is None  # a token acts for no user
    assert newest["created_at"]
    assert newest["snapshot"]["justification"] == "It pays back in **two** months."
    assert results[1]["author"] == user.username


@pytest.mark.django_db
def test_transitions_to_accepted_set_the_workloads_approach(api, team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    decision = DecisionRecordFactory(
        team=team, author=user, workload=workload.slug, approach="fine-tune"
    )
    proposed = transition(api, decision.number, "proposed")
    assert proposed.status_code == 200
    assert proposed.json()["status"] == "proposed"
    workload.refresh_from_db()
    assert workload.current_approach == "prompt"

    accepted = transition(api, decision.number, "accepted")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert Workload.objects.get(pk=workload.pk).current_approach == "fine-tune"


@pytest.mark.django_db
def test_illegal_transition_is_409_with_the_allowed_moves(api, team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    response = transition(api, decision.number, "accepted")
    assert response.status_code == 409
    body = response.json()
    assert body["errors"][0]["field"] == "status"
    assert "ADR-0001 is draft" in body["detail"]
    assert "proposed" in body["detail"]
    decision.refresh_from_db()
    assert decision.status == S.DRAFT


@pytest.mark.django_db
def test_unknown_status_in_a_transition_is_400(api, team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    response = api.post(f"{URL}/{decision.number}/transition", {"status": "done"}, format="json")
    assert response.status_code == 400
    assert "status" in _fields(response)


@pytest.mark.django_db
def test_accepted_body_patch_is_409_but_triggers_and_review_by_still_change(api, team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    decision_transition(decision=decision, author=user, status=S.PROPOSED)
    decision_transition(decision=decision, author=user, status=S.ACCEPTED)
    url = f"{URL}/{decision.number}"

    refused = api.patch(url, {"title": "Something else"}, format="json")
    assert refused.status_code == 409
    assert "frozen" in refused.json()["detail"]
    assert "title" in _fields(refused)
    decision.refresh_from_db()
    assert decision.title == "Classify tickets with a fine-tuned model"

    trigger = {"metric": "monthly_requests", "comparator": "<", "threshold": 10000}
    allowed = api.patch(
        url, {"revisit_triggers": [trigger], "review_by": "2027-01-31"}, format="json"
    )
    assert allowed.status_code == 200
    body = allowed.json()
    assert body["revisit_triggers"] == [trigger]
    assert body["review_by"] == "2027-01-31"
    assert body["status"] == "accepted"


# --- export ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_md_is_markdown_with_yaml_front_matter(api, team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    decision = DecisionRecordFactory(team=team, author=user, workload=workload.slug)
    response = api.get(f"{URL}/{decision.number}/export.md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith("---\n")
    front, _, body = text[4:].partition("\n---\n")
    matter = yaml.safe_load(front)
    assert matter["status"] == "draft"
    assert matter["decision-makers"] == []
    extras = matter["crossover"]
    assert extras["number"] == 1
    assert extras["workload"] == "ticket-classifier"
    assert "# Classify tickets with a fine-tuned model" in body
    assert "## Context and Problem Statement" in body


# --- scopes and teams -----------------------------------------------------------------------


@pytest.mark.django_db
def test_read_only_token_cannot_create(team, api_client_factory):
    reader = api_client_factory(team, "decisions:read")
    response = reader.post(URL, {"title": "Nope"}, format="json")
    assert response.status_code == 403
    assert not DecisionRecord.objects.exists()
    assert reader.get(URL).status_code == 200


@pytest.mark.django_db
def test_token_without_decision_scopes_cannot_read(team, user, api_client_factory):
    DecisionRecordFactory(team=team, author=user)
    usage_only = api_client_factory(team, "usage:write")
    assert usage_only.get(URL).status_code == 403
    assert usage_only.get(f"{URL}/1").status_code == 403


@pytest.mark.django_db
def test_another_teams_token_gets_404_for_our_number(team, other_team, user, api_client_factory):
    decision = DecisionRecordFactory(team=team, author=user)
    theirs = api_client_factory(other_team, "decisions:read", "decisions:write")
    assert theirs.get(f"{URL}/{decision.number}").status_code == 404
    patch = theirs.patch(f"{URL}/{decision.number}", {"title": "x"}, format="json")
    assert patch.status_code == 404
    assert transition(theirs, decision.number, "proposed").status_code == 404
    assert theirs.get(f"{URL}/{decision.number}/export.md").status_code == 404
    assert theirs.get(URL).json()["results"] == []
    decision.refresh_from_db()
    assert (decision.title, decision.status) == (complete_data()["title"], S.DRAFT)


# --- numbering under concurrency ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_distinct_consecutive_numbers(team, user):
    workers = 8
    barrier = threading.Barrier(workers)
    numbers: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def create_one(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            decision = decision_create(team=team, author=user, title=f"Race {i}")
            with lock:
                numbers.append(decision.number)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            with lock:
                failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create_one, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(numbers) == list(range(1, workers + 1))
    assert DecisionRecord.objects.filter(team=team).count() == workers
    assert DecisionRevision.objects.filter(decision__team=team).count() == workers


# --- no N+1 ---------------------------------------------------------------------------------


def count_queries(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_list_api_query_count_does_not_grow_with_decisions(api, team, user):
    build_log(team, user, 3, "few")
    api.get(URL)  # the token's first use stores its last-used time once
    few = count_queries(lambda: api.get(URL))
    build_log(team, user, 12, "many")
    response = api.get(URL)
    assert len(response.json()["results"]) == 15
    assert all(item["evidence"] and item["workload"] for item in response.json()["results"])
    assert sum(bool(item["supersedes"]) for item in response.json()["results"]) == 14
    assert count_queries(lambda: api.get(URL)) == few


@pytest.mark.parametrize(
    "query", ["status=AAA", "status=", "approach=magic", "q=" + "x" * 201]
)  # fmt: skip
def test_a_filter_outside_the_published_values_is_a_400_naming_it(api, query):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


@pytest.mark.parametrize("field", ["title", "note", "context_and_problem_statement"])
def test_a_number_where_text_belongs_is_refused(api, field):
    response = api.post(URL, {"title": "A title", field: 0}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": field, "message": "Must be a string."}]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Give a workload's slug, or null for none."),
        (0, "Give a workload's slug as a string, or null for none."),
    ],
)
def test_a_workload_that_is_not_a_slug_is_refused_even_when_one_matches(api, team, value, message):
    WorkloadFactory(team=team, slug="0", name="Zero")
    created = api.post(URL, {"title": "A title", "workload": value}, format="json")
    assert created.status_code == 400
    assert created.json()["errors"] == [{"field": "workload", "message": message}]
    number = api.post(URL, {"title": "A title"}, format="json").json()["number"]
    patched = api.patch(f"{URL}/{number}", {"workload": value}, format="json")
    assert patched.status_code == 400
    assert DecisionRecord.objects.get(team=team, number=number).workload is None
