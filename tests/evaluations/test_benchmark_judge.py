"""The `llm_judge` scorer: a chosen candidate grades every output over real HTTP to the demo
endpoint; its grade is the call's score, its answer is stored beside the output, and the
summary's interval comes from those per-call values."""

from __future__ import annotations

import json

import pytest

from evaluations import scoring, stats
from evaluations.models import BenchmarkResult, BenchmarkRun, BenchmarkStatus
from evaluations.services import benchmarks
from tests.evaluations.benchmark_helpers import scenario, start
from tests.evaluations.test_benchmarks_api import body

JUDGED = [{"name": "accuracy"}, {"name": "llm_judge", "judge": "demo-fine-tuned"}]


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def run_in_process(run: BenchmarkRun) -> BenchmarkRun:
    for index in range(run.chunk_count):
        benchmarks.benchmark_chunk_run(run_id=run.pk, index=index)
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_every_output_is_graded_by_the_judging_candidate(team, user, demo_llm_server):
    sc = scenario(team, user, demo_llm_server, items=12)
    run = run_in_process(start(team, sc, scorers=JUDGED, chunk_size=5, enqueue=False))

    assert run.status == BenchmarkStatus.FINISHED, run.failure
    rows = list(BenchmarkResult.objects.filter(run=run).select_related("item", "candidate"))
    assert len(rows) == 24 and all(r.ok for r in rows)
    for row in rows:
        verdict = json.loads(row.judge_output)
        # The demo grader gives 5 when the answer contains the expected label, else 1.
        contains = row.item.expected.lower() in row.output.lower()
        assert verdict["score"] == (5 if contains else 1), row.output
        assert row.scores["llm_judge"] == (1.0 if contains else 0.0)
    for summary in run.summary["candidates"]:
        values = [r.scores["llm_judge"] for r in rows if r.candidate.label == summary["label"]]
        estimate = summary["scores"]["llm_judge"]
        assert estimate["n"] == 12
        assert estimate["value"] == pytest.approx(sum(values) / 12)
        assert estimate["ci_low"] == pytest.approx(stats.bootstrap(values, seed=run.seed).ci_low)


@pytest.mark.django_db
def test_the_judge_is_asked_for_the_request_the_expected_answer_and_the_output(
    team, user, demo_llm_server
):
    sc = scenario(team, user, demo_llm_server, items=1)
    criteria = "Only the category counts."
    scorers = [{"name": "llm_judge", "judge": "demo-prompted", "criteria": criteria}]
    run = start(team, sc, scorers=scorers, enqueue=False)
    candidates = list(run.candidates.select_related("provider", "prompt_version__template"))
    items = list(run.dataset.items.all())
    plan = benchmarks._plan(run, candidates, items, set(), {})
    call = plan.calls[0]
    assert call.judge.model == "demo-prompted" and call.judge.client == sc.provider.pk
    system, user_turn = call.judge.messages('{"category": "billing"}')
    assert criteria in system["content"]
    assert "Request:\nTicket 0: this is about billing" in user_turn["content"]
    assert "Expected answer:\nbilling" in user_turn["content"]
    assert user_turn["content"].endswith('Answer to grade:\n{"category": "billing"}')


@pytest.mark.parametrize(
    ("scorer", "field"),
    [
        ({"name": "llm_judge"}, "scorers.0.judge"),
        ({"name": "llm_judge", "judge": "nobody"}, "scorers"),
        ({"name": "llm_judge", "judge": "prompted", "pattern": "x"}, "scorers.0.pattern"),
        ({"name": "regex", "pattern": "x", "judge": "prompted"}, "scorers.0.judge"),
    ],
)
@pytest.mark.django_db
def test_a_bad_judge_is_a_400_naming_the_field(
    team, user, demo_llm_server, api_client_factory, scorer, field
):
    api = api_client_factory(team, "evaluations:read", "evaluations:write")
    sc = scenario(team, user, demo_llm_server, items=2)
    response = api.post("/api/v1/benchmarks", body(sc, scorers=[scorer]), format="json")
    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()
    assert not BenchmarkRun.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_judge_that_is_not_a_candidate(team, user, demo_llm_server):
    from django.core.exceptions import ValidationError

    sc = scenario(team, user, demo_llm_server, items=2)
    with pytest.raises(ValidationError) as refused:
        start(team, sc, scorers=[{"name": "llm_judge", "judge": "gpt-judge"}], enqueue=False)
    assert "scorers" in refused.value.message_dict
    assert not BenchmarkRun.objects.exists()


@pytest.mark.parametrize(
    ("answer", "grade"),
    [
        ('{"score": 5, "reason": "right"}', 1.0),
        ('{"score": 1}', 0.0),
        ('{"score": 3.5}', 0.625),
        ("Score: 4 — mostly right", 0.75),
        ('{"score": 6}', None),  # off the scale
        ('{"score": true}', None),
        ('{"grade": 5}', None),
        ("I cannot grade this.", None),
    ],
)
def test_a_judge_answer_is_read_as_a_grade_or_nothing(answer, grade):
    assert scoring.judge_grade(answer) == grade


def test_without_an_expected_answer_the_judge_is_not_told_one():
    system, user = scoring.judge_messages(criteria="", request="Hi", expected=None, output="Yo")
    assert scoring.DEFAULT_JUDGE_CRITERIA in system["content"]
    assert "Expected answer" not in user["content"]


@pytest.mark.django_db
def test_the_run_page_names_the_judge(admin_client, team, user, demo_llm_server):
    sc = scenario(team, user, demo_llm_server, items=2)
    run = run_in_process(start(team, sc, scorers=JUDGED, enqueue=False))
    page = admin_client.get(f"/t/{team.slug}/benchmarks/{run.pk}/").text
    assert '<th scope="row">llm_judge (graded by demo-fine-tuned)</th>' in page
    items = admin_client.get(f"/t/{team.slug}/benchmarks/{run.pk}/items/").text
    assert items.count("<summary><small>Judge's answer</small></summary>") == 4
