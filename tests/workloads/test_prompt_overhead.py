"""A workload linked to a prompt of the registry: its production version's static tokens are the
prompt overhead (P) of every assessment, moving `production` re-assesses it, and a worksheet takes
P from a chosen version."""

from __future__ import annotations

import pytest

from prompts import services as prompt_services
from prompts.selectors import label_static_tokens
from tests.factories import UsageRecordFactory, WorkloadFactory
from tests.prompts.helpers import chat_content
from tests.workloads.usage_helpers import hour
from workloads.models import Assessment
from workloads.services import assessments

pytestmark = pytest.mark.django_db

SHORT = chat_content("You classify support tickets. Answer with one word.")
LONG = chat_content(
    "You classify support tickets into billing, bug, feature or account. " * 40,
    few_shot=[{"input": "I was charged twice", "output": "billing"}],
)


@pytest.fixture
def linked(team, user, make_prompt):
    template = make_prompt(team, "tickets", SHORT, LONG, labels={"production": 2})
    workload = WorkloadFactory(team=team, planned=True, prompt_template=template)
    return workload, template


def test_an_assessment_takes_the_prompt_overhead_from_the_production_version(linked):
    workload, template = linked
    UsageRecordFactory(workload=workload, period_start=hour(3))
    tokens = label_static_tokens(template=template)
    assert tokens > 400  # the long version, not the planned parameter

    assessment = assessments.assessment_create(workload=workload, reason=Assessment.Reason.USAGE)

    assert assessment.inputs["prompt_overhead_tokens"] == tokens
    assert workload.parameters["prompt_overhead_tokens"] != tokens


def test_without_a_production_label_the_planned_parameter_stands(team, user, make_prompt):
    template = make_prompt(team, "drafts", LONG)  # versions, no production label
    workload = WorkloadFactory(team=team, planned=True, prompt_template=template)
    assessment = assessments.assessment_create(workload=workload, reason=Assessment.Reason.USAGE)
    assert (
        assessment.inputs["prompt_overhead_tokens"] == workload.parameters["prompt_overhead_tokens"]
    )


def test_moving_production_re_assesses_the_linked_workload_with_the_new_count(
    linked, user, monkeypatch, django_capture_on_commit_callbacks
):
    workload, template = linked
    enqueued = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kw: enqueued.extend((pk, args[1]) for pk in args[0]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        prompt_services.prompt_label_move(
            template=template, label="production", number=1, user=user, is_admin=True
        )
    assert enqueued == [(workload.pk, Assessment.Reason.PROMPT)]

    assessment = assessments.assessment_run(workload_id=workload.pk, reason=enqueued[0][1])
    assert assessment.inputs["prompt_overhead_tokens"] == label_static_tokens(template=template)
    assert assessment.inputs["prompt_overhead_tokens"] < 50  # the short version now


def test_moving_another_label_re_assesses_nothing(
    linked, user, monkeypatch, django_capture_on_commit_callbacks
):
    _, template = linked
    enqueued = []
    monkeypatch.setattr(
        "workloads.tasks.assess_workloads.apply_async",
        lambda args, **kw: enqueued.extend((pk, args[1]) for pk in args[0]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        prompt_services.prompt_label_move(
            template=template, label="staging", number=1, user=user, is_admin=True
        )
    assert enqueued == []


def test_a_worksheet_takes_the_overhead_from_the_chosen_version(admin_client, team, linked):
    workload, template = linked
    url = f"/t/{team.slug}/worksheets/new/"
    page = admin_client.get(f"{url}?workload={workload.slug}").content.decode()
    assert 'value="tickets@2" selected' in page  # the production version is the default

    response = admin_client.post(
        url,
        {"prompt": "tickets@1", "applied_prompt": "tickets@2", "prompt_overhead_tokens": "999"},
        HTTP_HX_REQUEST="true",
    )
    short = template.versions.get(number=1).static_tokens
    html = response.content.decode()
    assert f'name="prompt_overhead_tokens" value="{short}"' in html
