"""factory_boy factories for the rows most tests need: users, teams, workloads, usage and
decision records. Teams and decision records are made through their services, as the product
makes them (a team gets its default price table; a decision gets its first revision)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model

from decisions.models import DecisionRecord
from decisions.serializers import DecisionWriteSerializer
from decisions.services.records import decision_create
from teams.models import Team
from teams.services import team_create
from workloads.models import Approach, UsageRecord, Workload

PASSWORD = "pw-123456"

# Planned figures the ROI engine can assess at the default prices (gpt-4o-mini: 0.15 / 0.60 per
# 1M tokens). Without breaches and below the token cutoff the SLA/ROI policy keeps prompting; a
# format error rate above 5% is a breach, and at high volume fine-tuning pays back in time.
PLANNED = {
    "prompt_overhead_tokens": 1500,
    "user_tokens": 300,
    "output_tokens": 100,
    "monthly_requests": 1000,
    "training_cost": 50,
    "latency_sla_ms": 600,
    "format_error_threshold": 0.05,
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class TeamFactory(factory.django.DjangoModelFactory):
    """A team made by `team_create` (with its default price table); `admin` is optional."""

    class Meta:
        model = Team

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())
    admin = None

    @classmethod
    def _create(cls, model_class, *, slug, name, admin):
        return team_create(slug=slug, name=name, admin=admin)


class WorkloadFactory(factory.django.DjangoModelFactory):
    """A workload on prompt engineering with gpt-4o-mini and no parameters; `planned=True` gives
    it the PLANNED figures, enough for an assessment."""

    class Meta:
        model = Workload

    class Params:
        planned = factory.Trait(parameters=factory.LazyFunction(lambda: dict(PLANNED)))

    team = factory.SubFactory(TeamFactory)
    slug = factory.Sequence(lambda n: f"workload-{n}")
    name = factory.LazyAttribute(lambda w: w.slug.replace("-", " ").capitalize())
    model = "gpt-4o-mini"
    current_approach = Approach.PROMPT
    parameters = factory.LazyFunction(dict)


def _an_hour_ago() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


class UsageRecordFactory(factory.django.DjangoModelFactory):
    """One pushed usage record, stored as ingestion stores it: 100 requests over an hour that
    began two hours ago, 180,000 input tokens and 100 output tokens a request."""

    class Meta:
        model = UsageRecord

    class Params:
        hours = 1

    workload = factory.SubFactory(WorkloadFactory)
    team = factory.LazyAttribute(lambda r: r.workload.team)
    period_start = factory.LazyFunction(_an_hour_ago)
    period_end = factory.LazyAttribute(lambda r: r.period_start + timedelta(hours=r.hours))
    requests = 100
    input_tokens = 180_000
    output_tokens = factory.LazyAttribute(lambda r: r.requests * 100)
    model = "gpt-4o-mini"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through ingestion's own write, so the daily rollup is kept as a push keeps it.
        from workloads import usage_ingest

        workload = kwargs.pop("workload")
        team = kwargs.pop("team")
        client_id = kwargs.pop("client_id", None)
        fields = {
            "approach": "", "model": "", "latency_p50_ms": None, "latency_p99_ms": None,
            "format_errors": None, "cost_usd": None, **kwargs,
        }  # fmt: skip
        row = usage_ingest.UsageRow(workload_id=workload.pk, client_id=client_id, **fields)
        usage_ingest.store_rows(team_id=team.pk, rows=[row])
        return model_class.objects.filter(workload=workload).latest("pk")


# A decision that can be accepted: options, the fine-tuned one chosen, an approach.
ACCEPTABLE_DECISION = {
    "title": "Classify tickets with a fine-tuned model",
    "context_and_problem_statement": "Prompted calls are slow.",
    "considered_options": [
        {"title": "Prompt engineering", "arguments": [{"kind": "bad", "text": "slow"}]},
        {"title": "Fine-tuned model", "arguments": [{"kind": "good", "text": "fast"}]},
    ],
    "chosen_option": "Fine-tuned model",
    "approach": "fine-tune",
}


class DecisionRecordFactory(factory.django.DjangoModelFactory):
    """A draft decision made by `decision_create` (with its first revision) from
    ACCEPTABLE_DECISION; any API field can be given, `author` is who saved it and `evidence`
    what it links to."""

    class Meta:
        model = DecisionRecord

    team = factory.SubFactory(TeamFactory)
    author = None
    evidence = ()

    @classmethod
    def _create(cls, model_class, *, team, author, evidence, **data):
        # Through the write schema, as the API and the form are, then the service.
        data = copy.deepcopy(ACCEPTABLE_DECISION) | data
        serializer = DecisionWriteSerializer(data=data, context={"team": team})
        serializer.is_valid(raise_exception=True)
        return decision_create(
            team=team, author=author, evidence=list(evidence), **serializer.validated_data
        )
