"""The benchmark pages: the new-run form (validated by the API's serializer), the run page and
its htmx status partial, the per-item drill-down, the exports, the runs list."""

from __future__ import annotations

import csv
import io

import pytest

from evaluations.models import BenchmarkRun
from teams.models import Role
from tests.evaluations.benchmark_helpers import scenario, start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def eager():
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def form(sc, **overrides) -> dict:
    data = {
        "name": "From the form", "dataset": str(sc.dataset.pk), "split": "test",
        "concurrency": "3", "workload": "",
        "c0-label": "prompted", "c0-approach": "prompt", "c0-provider": str(sc.provider.pk),
        "c0-model": "demo-prompted", "c0-prompt": f"{sc.prompt_slug}@1",
        "c1-label": "fine-tuned", "c1-approach": "fine-tune", "c1-provider": str(sc.provider.pk),
        "c1-model": "demo-fine-tuned", "c1-prompt": f"{sc.prompt_slug}@latest",
        "scorers": ["accuracy", "json_valid", "regex"], "pattern": "category",
    }  # fmt: skip
    data.update(overrides)
    return data


def url(team, *parts) -> str:
    return "/".join([f"/t/{team.slug}/benchmarks", *map(str, parts)]) + "/"


def test_the_form_refuses_bad_input_naming_the_field_and_stores_nothing(
    admin_client, team, user, demo_llm_server
):
    sc = scenario(team, user, demo_llm_server, items=3)
    response = admin_client.post(url(team, "new"), form(sc, pattern="(", **{"c1-label": ""}))
    assert response.status_code == 400
    text = response.content.decode()
    assert "scorers.2.pattern" in text and "Not a valid regular expression" in text
    response = admin_client.post(url(team, "new"), form(sc, **{"c0-prompt": "nope@1"}))
    assert response.status_code == 400 and "candidates.0.prompt" in response.content.decode()
    assert not BenchmarkRun.objects.exists()


def test_a_refused_form_comes_back_filled_in(admin_client, team, user, demo_llm_server):
    sc = scenario(team, user, demo_llm_server, items=3)
    data = form(sc, pattern="(", **{"c1-model": "demo-hybrid", "c1-rag": "on"})
    page = admin_client.post(url(team, "new"), data).content.decode()
    assert 'name="c1-model" maxlength="200" list="provider-models"' in page
    assert 'value="demo-hybrid"></td>' in page
    assert 'name="c1-rag" checked' in page
    assert f'<option value="{sc.prompt_slug}@latest" selected>' in page
    assert '<input type="checkbox" name="scorers" value="regex" checked>' in page
    assert '<input type="checkbox" name="scorers" value="macro_f1">' in page


def test_add_a_candidate_keeps_what_was_typed_and_adds_a_row(admin_client, team, user,
                                                             demo_llm_server):  # fmt: skip
    sc = scenario(team, user, demo_llm_server, items=3)
    page = admin_client.get(url(team, "new")).content.decode()
    assert 'name="c3-label"' in page and 'name="c4-label"' not in page
    response = admin_client.post(url(team, "new"), form(sc, rows="4", more="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="c4-label"' in page and 'name="c5-label"' not in page
    assert 'name="c0-label" maxlength="100" value="prompted"' in page
    assert not BenchmarkRun.objects.exists()
    # A fifth candidate is part of the run.
    data = form(sc, rows="5", **{"c4-label": "hybrid", "c4-approach": "hybrid",
                                 "c4-provider": str(sc.provider.pk), "c4-model": "demo-hybrid",
                                 "c4-prompt": f"{sc.prompt_slug}@1"})  # fmt: skip
    assert admin_client.post(url(team, "new"), data).status_code == 302
    run = BenchmarkRun.objects.get()
    assert list(run.candidates.values_list("label", flat=True)) == [
        "prompted", "fine-tuned", "hybrid"]  # fmt: skip


def test_the_form_starts_a_run_graded_by_a_judge(admin_client, team, user, demo_llm_server):
    sc = scenario(team, user, demo_llm_server, items=3)
    data = form(sc, scorers=["accuracy", "llm_judge"], judge="fine-tuned",
                criteria="Only the category counts.")  # fmt: skip
    assert admin_client.post(url(team, "new"), data).status_code == 302
    run = BenchmarkRun.objects.get()
    judge = {"name": "llm_judge", "judge": "fine-tuned", "criteria": "Only the category counts."}
    assert run.scorers == [{"name": "accuracy"}, judge]
    refused = admin_client.post(url(team, "new"), form(sc, scorers=["llm_judge"], judge="x"))
    assert refused.status_code == 400
    assert "the judge must be one of the run&#x27;s candidates" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_form_starts_a_run_whose_page_shows_the_comparison(
    admin_client, team, user, demo_llm_server, eager
):
    sc = scenario(team, user, demo_llm_server, items=25)
    response = admin_client.post(url(team, "new"), form(sc))
    run = BenchmarkRun.objects.get()
    assert response.status_code == 302 and response["Location"] == url(team, run.pk)
    assert [c.prompt_label for c in run.candidates.order_by("position")] == ["", "latest"]
    assert run.scorers[2] == {"name": "regex", "pattern": "category"}

    page = admin_client.get(url(team, run.pk)).content.decode()
    assert 'data-testid="comparison"' in page and 'id="latency-distribution-data"' in page
    assert "hx-trigger" not in page  # finished: nothing left to poll
    partial = admin_client.get(url(team, run.pk), headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section id="run-status"')
    assert "Accept" not in partial.get("Vary", "") and "HX-Request" in partial["Vary"]

    items = admin_client.get(url(team, run.pk, "items")).content.decode()
    assert "items page 1 of 2" in items and items.count('<pre class="output">') == 40
    exported = admin_client.get(f"/t/{team.slug}/benchmarks/{run.pk}/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert len(rows) == 50 and {"score_accuracy", "score_regex", "cost"} <= set(rows[0])
    data = admin_client.get(f"/t/{team.slug}/benchmarks/{run.pk}/export.json").json()
    assert len(data["results"]) == 50 and data["summary"] == run.summary
    listed = admin_client.get(url(team)).content.decode()
    assert f"#{run.pk} From the form" in listed and "50 / 50" in listed


def test_a_running_run_polls_its_status_and_can_be_cancelled(
    admin_client, team, user, demo_llm_server
):
    sc = scenario(team, user, demo_llm_server, items=3)
    run = start(team, sc)  # in the test's transaction: never sent to a worker
    page = admin_client.get(url(team, run.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-testid="run-progress"' in page
    assert admin_client.post(url(team, run.pk, "cancel")).status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_viewers_read_but_do_not_start_or_cancel(client, team, user, member_factory,
                                                 demo_llm_server):  # fmt: skip
    sc = scenario(team, user, demo_llm_server, items=2)
    run = start(team, sc)
    client.force_login(member_factory(team, Role.VIEWER))
    assert client.get(url(team, run.pk)).status_code == 200
    assert client.post(url(team, "new"), form(sc)).status_code == 403
    assert client.post(url(team, run.pk, "cancel")).status_code == 403
    assert BenchmarkRun.objects.count() == 1


def test_the_list_reads_in_constant_queries(admin_client, team, user, demo_llm_server,
                                            django_assert_max_num_queries):  # fmt: skip
    sc = scenario(team, user, demo_llm_server, items=2)
    for _ in range(5):
        start(team, sc)
    with django_assert_max_num_queries(12):
        assert admin_client.get(url(team)).content.decode().count("badge-queued") == 5


def test_a_provider_or_dataset_used_by_a_run_is_not_deleted(
    admin_client, team, user, demo_llm_server, api_client_factory
):
    sc = scenario(team, user, demo_llm_server, items=2)
    start(team, sc)
    api = api_client_factory(team, "evaluations:read", "evaluations:write")
    refused = api.delete(f"/api/v1/providers/{sc.provider.pk}")
    assert refused.status_code == 400
    assert "used by benchmark runs" in refused.json()["errors"][0]["message"]
    page = admin_client.post(f"/t/{team.slug}/datasets/{sc.dataset.pk}/delete/", follow=True)
    assert "used by benchmark runs" in page.content.decode()
    sc.provider.refresh_from_db()
    sc.dataset.refresh_from_db()  # both still there


def test_the_prompt_choices_offer_only_labels_that_exist(admin_client, team, user,
                                                         demo_llm_server):  # fmt: skip
    from prompts import services as prompt_services
    from prompts.models import PromptTemplate

    sc = scenario(team, user, demo_llm_server, items=1)
    page = admin_client.get(url(team, "new")).content.decode()
    assert f'value="{sc.prompt_slug}@latest"' in page
    assert f'value="{sc.prompt_slug}@production"' not in page
    template = PromptTemplate.objects.get(team=team, slug=sc.prompt_slug)
    prompt_services.prompt_label_move(
        template=template, label="production", number=1, user=user, is_admin=True
    )
    page = admin_client.get(url(team, "new")).content.decode()
    assert f'<option value="{sc.prompt_slug}@production">{sc.prompt_slug} · production (v1)' in page
