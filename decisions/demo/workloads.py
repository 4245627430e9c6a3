"""Demo workloads: a persona chat assistant and a JSON ticket classifier, one worksheet each."""

from __future__ import annotations

from decisions import roi
from decisions.models import Workload, workload_roi_data
from decisions.services.workloads import workload_create
from decisions.services.worksheets import worksheet_create

WORKLOADS = [
    {
        "slug": "taskmaster-chat",
        "name": "TaskMaster chat assistant",
        "description": (
            "Public productivity-coach persona in the task app: encouraging, action-oriented, "
            "never condescending. A 500-token persona prompt rides along with every message; "
            "conversations often run past 20 turns, where the prompted persona drifts."
        ),
        "current_approach": "prompt",
        "policy": "checklists",
        "model": "gpt-4o-mini",
        "ft_model": "",
        "parameters": {
            "monthly_requests": 500_000,
            "user_tokens": 50,
            "prompt_overhead_tokens": 500,
            "output_tokens": 200,
            "horizon_months": 6,
            "training_examples": 1_200,
            "training_tokens_per_example": 450,
            "epochs": 3,
            "dev_hours": 24,
            "persona_change_frequency": "rarely",
            "consistency_critical": True,
            "public_facing": True,
            "long_conversations": True,
            "labeled_examples": 1_200,
            "accuracy_target": 0.9,
        },
        "worksheet": {
            "title": "Persona consistency vs token cost",
            "justification": (
                "Fine-tune the persona. On token cost alone fine-tuning loses: without the "
                "500-token persona prompt a call still costs $0.000255 against $0.0002025, "
                "because fine-tuned tokens are priced at twice the base rate, so it never pays "
                "back ($26.25 a month more at 500k requests). We accept that for what the "
                "prompt cannot give us: the persona drifts after ~10 turns in long "
                "conversations, and as a public assistant it must resist 'ignore previous "
                "instructions'. The persona has been stable for months. Revisit if marketing "
                "wants per-department personas (a hybrid overlay) or volume passes 2M/month, "
                "where the extra cost exceeds $100 a month."
            ),
        },
    },
    {
        "slug": "ticket-classifier",
        "name": "Support ticket classifier",
        "description": (
            "Classifies incoming support tickets into category, priority and confidence as "
            "strict JSON for the routing service. The prompt carries 1,800 tokens of "
            "instructions and 12 few-shot examples to keep the format; users wait on it in "
            "the ticket form."
        ),
        "current_approach": "prompt",
        "policy": "sla_roi",
        "model": "gpt-4o-mini",
        "ft_model": "ft:gpt-4o-mini:demo:tickets:v1",
        "parameters": {
            "monthly_requests": 3_000_000,
            "user_tokens": 180,
            "prompt_overhead_tokens": 1_800,
            "output_tokens": 40,
            "ft_overhead_tokens": 60,
            "horizon_months": 6,
            "training_examples": 2_000,
            "training_tokens_per_example": 250,
            "epochs": 3,
            "dev_hours": 16,
            "maintenance_hours_per_month": 1,
            "latency_sla_ms": 600,
            "latency_p99_ms": 1_200,
            "format_error_threshold": 0.05,
            "format_error_rate": 0.08,
            "persona_change_frequency": "rarely",
            "consistency_critical": True,
            "latency_sensitive": True,
            "labeled_examples": 2_000,
            "accuracy_target": 0.95,
        },
        "worksheet": {
            "title": "Latency and format SLA breach",
            "justification": (
                "Fine-tune. The prompted classifier breaches both SLAs: p99 latency is 1,200 ms "
                "against 600 ms, and 8% of answers are not valid JSON against a 5% threshold. "
                "The 1,800-token few-shot prompt is most of the cost; a fine-tuned model with a "
                "60-token instruction costs $0.00012 per call instead of $0.000321, saving "
                "about $450 a month at 3M tickets even after an hour of upkeep a month. The "
                "$2,404.50 investment (16 dev hours; the training run itself is $4.50) pays "
                "back in about 5.3 months, inside our 6-month horizon. The 2,000 labeled "
                "tickets we already have are the training set. Revisit if volume falls below "
                "~1.5M a month or the category list starts changing weekly."
            ),
        },
    },
]


def seed(team, user) -> None:
    for spec in WORKLOADS:
        data = {k: v for k, v in spec.items() if k != "worksheet"}
        workload = Workload.objects.for_team(team).filter(slug=spec["slug"]).first()
        if workload is None:
            workload = workload_create(team=team, data=data, actor=user)
        if not workload.worksheets.exists():
            worksheet_create(
                team=team,
                workload=workload,
                inputs=roi.parse_inputs(workload_roi_data(workload)),
                author=user,
                **spec["worksheet"],
            )
