"""Decision search reads the stored search document (a generated tsvector with a GIN index, and a
trigram index for title substrings): one query for the page and a count without the rank."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.models import DecisionRecord
from decisions.selectors import _text_search, decision_search
from tests.decisions.records_helpers import create, update
from tests.plugins.services import service_missing

pytestmark = pytest.mark.django_db

URL = "/api/v1/decisions"


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "decisions:read")


@pytest.fixture
def postgresql():
    """Ranking, stemming and the indexes are PostgreSQL's; SQLite (development) matches words."""
    if connection.vendor != "postgresql":
        service_missing("PostgreSQL (set DATABASE_URL) for full-text ranking and its indexes")


@pytest.fixture
def log(team, user):
    return {
        "title": create(team, user, {"title": "Cache embeddings for retrieval"}),
        "body": create(
            team,
            user,
            {"title": "Keep prompts", "consequences": "Retrieval stays on the slow path."},
        ),
        "other": create(team, user, {"title": "Rollback plan", "justification": "Outages."}),
    }


def test_the_search_document_follows_every_edit(team, user, log):
    decision = log["other"]
    assert list(decision_search(team=team, q="invoices")) == []
    update(decision, user, {"more_information": "Invoices are parsed nightly."})
    assert list(decision_search(team=team, q="invoices")) == [decision]
    update(decision, user, {"more_information": ""})
    assert list(decision_search(team=team, q="invoices")) == []


def test_title_matches_rank_above_body_matches_and_stems_match(postgresql, team, log):
    found = list(decision_search(team=team, q="retrieving"))
    assert found == [log["title"], log["body"]]


def test_a_title_substring_matches(team, log):
    assert list(decision_search(team=team, q="ollbac")) == [log["other"]]


def test_search_is_scoped_to_the_team(team, other_team, user, log):
    create(other_team, user, {"title": "Retrieval elsewhere"})
    assert set(decision_search(team=team, q="retrieval")) == {log["title"], log["body"]}


def test_the_count_leaves_the_rank_out_and_the_page_is_one_query(postgresql, team, log):
    queryset = decision_search(team=team, q="retrieval")
    with CaptureQueriesContext(connection) as queries:
        assert queryset.count() == 2
        page = list(queryset[:1])
    count_sql, page_sql = (q["sql"] for q in queries.captured_queries)
    assert "ts_rank" not in count_sql and "to_tsvector" not in count_sql
    assert "to_tsvector" not in page_sql  # the stored vector, never recomputed per row
    assert page == [log["title"]]


def test_the_indexes_serve_the_search(postgresql, team, log):
    # Across teams and with sequential scans off, the plan shows whether an index can serve the
    # search filter at all (with a few rows the planner would rather use the team's index).
    queryset = _text_search(DecisionRecord.objects.all(), "retrieval")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "decision_search" in plan
    assert "decision_title_trigram" in plan


def test_the_api_searches_with_a_constant_number_of_queries(api, team, user, log):
    def queries_for(q):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(URL, {"q": q})
        assert response.status_code == 200
        return len(queries), sorted(item["number"] for item in response.json()["results"])

    queries_for("retrieval")  # the token's first use is written once
    few = queries_for("retrieval")
    assert few[1] == sorted([log["title"].number, log["body"].number])
    for i in range(5):
        create(team, user, {"title": f"Retrieval variant {i}"})
    many = queries_for("retrieval")
    assert len(many[1]) == 7
    assert many[0] == few[0]
    assert DecisionRecord.objects.count() == 8


def test_the_search_vector_stays_in_its_row(postgresql):
    # MAIN storage: a record's long texts are moved out of line before its search vector, so
    # a search reads each candidate's vector from its row, not from the TOAST table.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = 'search'",
            ["decisions_decisionrecord"],
        )
        assert cursor.fetchone() == ("m",)


def test_the_api_and_the_log_page_list_the_best_match_first(postgresql, api, admin_client, log):
    # A page is chosen on ids by rank, then its records are read: the rank order must survive.
    best, next_best = log["title"], log["body"]
    assert best.number < next_best.number  # the log's own order (newest first) is the reverse
    results = api.get(URL, {"q": "retrieving"}).json()["results"]
    assert [item["number"] for item in results] == [best.number, next_best.number]
    assert results[0]["title"] == best.title and results[0]["code"] == best.code
    text = admin_client.get("/t/acme/decisions/", {"q": "retrieving"}).content.decode()
    assert 0 < text.index(best.title) < text.index(next_best.title)
