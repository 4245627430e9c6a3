"""Builders shared by the decision-record tests."""

from __future__ import annotations

from decisions.models import DecisionRecord
from decisions.services.records import decision_create
from workloads import roi
from workloads.models import Workload, Worksheet

# Seed 000's worked example, with effort figures so that fine-tuning can pay back.
WORKSHEET_INPUTS = {
    "monthly_requests": 500_000,
    "user_tokens": 50,
    "prompt_overhead_tokens": 1_500,
    "output_tokens": 200,
    "ft_overhead_tokens": 0,
    "input_price_per_1m": 2.5,
    "output_price_per_1m": 10,
    "ft_price_multiplier": 1.5,
    "training_examples": 1_000,
    "training_tokens_per_example": 500,
    "training_price_per_1m": 25,
    "dev_hours": 20,
    "latency_p99_ms": 720,
    "format_error_rate": 0.02,
    "consistency_critical": True,
    "labeled_examples": 1_200,
    "accuracy_target": 0.95,
}


def make_workload(team, slug="ticket-classifier", name="Ticket classifier", **extra) -> Workload:
    return Workload.objects.create(
        team=team, slug=slug, name=name, model="gpt-4o-mini", current_approach="prompt", **extra
    )


def make_worksheet(workload, user=None, inputs=None, version=1) -> Worksheet:
    parsed = roi.parse_inputs(inputs or WORKSHEET_INPUTS)
    result = roi.evaluate(parsed)
    return Worksheet.objects.create(
        team=workload.team,
        workload=workload,
        version=version,
        inputs=parsed.as_dict(),
        outputs=result.as_dict(),
        recommendation=result.recommendation,
        justification="",
        author=user,
    )


def complete_data(**overrides) -> dict:
    """A decision that can be accepted: options and a chosen one."""
    data = {
        "title": "Classify tickets with a fine-tuned model",
        "context_and_problem_statement": "Prompted calls are slow.",
        "considered_options": [
            {"title": "Prompt engineering", "arguments": [{"kind": "bad", "text": "slow"}]},
            {"title": "Fine-tuned model", "arguments": [{"kind": "good", "text": "fast"}]},
        ],
        "chosen_option": "Fine-tuned model",
        "approach": "fine-tune",
    }
    data.update(overrides)
    return data


def make_decision(team, user=None, **overrides):
    return decision_create(team=team, author=user, data=complete_data(**overrides))


def build_log(team, user, count: int, prefix: str = "workload") -> None:
    """`count` more decisions, each with a workload, worksheet evidence and superseding the
    previous one."""
    previous = DecisionRecord.objects.for_team(team).order_by("-number").first()
    for i in range(count):
        workload = make_workload(team, slug=f"{prefix}-{i}", name=f"{prefix} {i}")
        data = complete_data(title=f"Decision {prefix} {i}", workload=workload.slug)
        if previous is not None:
            data["supersedes"] = [previous.number]
        evidence = [make_worksheet(workload, user)]
        previous = decision_create(team=team, author=user, data=data, evidence=evidence)
