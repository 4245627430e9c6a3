"""What the results block shows for one set of inputs: figures, formulas, chart, thresholds.

Shared by the worksheet, the saved worksheet version and the workload page. Every number comes
from workloads/roi.py; this module only lays them out for people.
"""

from __future__ import annotations

from decimal import Decimal

from workloads import formatting, roi
from workloads.formatting import count, months, number, usd

PROMPT_COLOUR = "#1f5fbf"
FINE_TUNE_COLOUR = "#1b7f3b"
MARKER_COLOUR = "#8a5a00"


def crossover_chart(inputs: roi.RoiInputs, outputs: dict) -> dict:
    """Chart.js config: monthly cost of each approach against monthly volume, the current
    volume as a dashed vertical line and the crossover as a marked point."""
    volumes = roi.chart_volumes(inputs)
    curve = roi.cost_curve(inputs, volumes)
    prompt = [{"x": p["requests"], "y": p["prompt"]} for p in curve]
    fine_tune = [{"x": p["requests"], "y": p["fine_tune"]} for p in curve]
    top = max(point["y"] for point in prompt + fine_tune) or 1
    current = inputs.monthly_requests
    investment = outputs["investment"]
    ft_label = "Fine-tuned model"
    if investment:
        ft_label += f" (incl. {usd(investment)} investment over {months(inputs.horizon_months)})"
    datasets = [
        _line("Prompt engineering", prompt, PROMPT_COLOUR),
        _line(ft_label, fine_tune, FINE_TUNE_COLOUR),
        {
            **_line(f"Current volume: {count(current)} requests/month",
                    [{"x": current, "y": 0}, {"x": current, "y": top}], MARKER_COLOUR),
            "borderDash": [6, 4],
            "borderWidth": 2,
        },
    ]  # fmt: skip
    crossover = outputs["crossover_monthly_requests"]
    if crossover is not None:
        at = roi.cost_curve(inputs, [round(crossover)])[0]
        datasets.append(
            {
                "label": f"Crossover: {count(crossover)} requests/month",
                "data": [{"x": at["requests"], "y": at["prompt"]}],
                "borderColor": "#222",
                "backgroundColor": "#222",
                "pointRadius": 6,
                "pointStyle": "rectRot",
                "showLine": False,
            }
        )
    return {
        "type": "line",
        "data": {"datasets": datasets},
        "options": {
            "interaction": {"mode": "nearest", "axis": "x", "intersect": False},
            "scales": {
                "x": {
                    "type": "linear",
                    "min": 0,
                    "max": volumes[-1],
                    "title": {"display": True, "text": "Monthly volume (requests per month)"},
                    "ticks": {"cxFormat": "count"},
                },
                "y": {
                    "beginAtZero": True,
                    "title": {"display": True, "text": "Monthly cost (USD)"},
                    "ticks": {"cxFormat": "usd"},
                },
            },
            "plugins": {
                "legend": {"position": "bottom", "labels": {"usePointStyle": True}},
                "tooltip": {"cxFormat": "usd"},
            },
        },
    }


def _line(label: str, data: list[dict], colour: str) -> dict:
    return {
        "label": label,
        "data": data,
        "borderColor": colour,
        "backgroundColor": colour,
        "borderWidth": 3,
        "pointRadius": 0,
        "pointHoverRadius": 4,
        "tension": 0,
    }


def chart_summary(inputs: roi.RoiInputs, outputs: dict) -> str:
    """The chart in one sentence, for the canvas's aria-label and the caption."""
    now = (
        f"At {count(inputs.monthly_requests)} requests/month prompting costs "
        f"{usd(outputs['prompt']['monthly_cost'])} and fine-tuning "
        f"{usd(outputs['fine_tune']['monthly_cost'])} a month"
    )
    if outputs["investment"]:
        amortised = roi.cost_curve(inputs, [inputs.monthly_requests])[0]["fine_tune"]
        now += (
            f" ({usd(amortised)} on the chart, with the investment spread over "
            f"{months(inputs.horizon_months)})"
        )
    crossover = outputs["crossover_monthly_requests"]
    if crossover is None:
        return f"{now}. The lines never cross: a fine-tuned call costs at least as much."
    return (
        f"{now}. The lines cross at {count(crossover)} requests/month: above it fine-tuning "
        "is cheaper, below it prompting is."
    )


def explanations(i: roi.RoiInputs) -> dict[str, str]:
    """Each figure's formula with this worksheet's numbers in it."""
    maintenance = ""
    if i.maintenance_hours_per_month:
        maintenance = (
            f" + maintenance {number(i.maintenance_hours_per_month)} h × {usd(i.hourly_rate)}"
        )
    if i.training_cost is not None:
        training = f"training {usd(i.training_cost)} (given)"
    else:
        training = (
            f"training {count(i.training_examples)} examples × "
            f"{number(i.training_tokens_per_example)} tokens × {i.epochs} epochs × "
            f"{usd(i.training_price_per_1m)} per 1M"
        )
    return {
        "prompt_per_request": (
            f"(({number(i.user_tokens)} user + {number(i.prompt_overhead_tokens)} prompt "
            f"tokens) × {usd(i.input_price_per_1m)} + {number(i.output_tokens)} output tokens × "
            f"{usd(i.output_price_per_1m)}) ÷ 1M"
        ),
        "ft_per_request": (
            f"(({number(i.user_tokens)} user + {number(i.ft_overhead_tokens)} overhead "
            f"tokens) × {usd(i.effective_ft_input_price_per_1m)} + "
            f"{number(i.effective_ft_output_tokens)} output tokens × "
            f"{usd(i.effective_ft_output_price_per_1m)}) ÷ 1M"
        ),
        "prompt_monthly": f"{count(i.monthly_requests)} requests × cost per request",
        "ft_monthly": f"{count(i.monthly_requests)} requests × cost per request{maintenance}",
        "investment": f"{training} + {number(i.dev_hours)} dev hours × {usd(i.hourly_rate)}",
        "savings": "prompt monthly cost − fine-tuned monthly cost",
        "payback": "investment ÷ monthly savings (only when fine-tuning saves money)",
        "break_even": "investment ÷ (prompt − fine-tuned cost per request)",
        "crossover": (
            f"(investment ÷ {months(i.horizon_months)}"
            f"{' + maintenance' if maintenance else ''}) ÷ (prompt − fine-tuned cost per request)"
        ),
        "tokens": (
            f"{count(i.monthly_requests)} × ({number(i.user_tokens)} + "
            f"{number(i.prompt_overhead_tokens)} + {number(i.output_tokens)})"
        ),
    }


def results_context(inputs: roi.RoiInputs, outputs: dict, *, margins=None) -> dict:
    """Everything `workloads/worksheets/_results.html` needs; `outputs` is RoiResult.as_dict()."""
    policy = inputs.policy
    verdicts = [
        {
            "key": key,
            "title": roi.POLICIES[key].title,
            "question": roi.POLICIES[key].question,
            "verdict": value["verdict"],
            "reasons": value["reasons"],
            "decides": key == policy,
        }
        for key, value in outputs["verdicts"].items()
    ]
    chosen = outputs["verdicts"][policy]["verdict"]
    return {
        "out": outputs,
        "inputs": inputs,
        "verdicts": verdicts,
        "policy_title": roi.POLICIES[policy].title,
        "knowledge_rule_applied": outputs["recommendation"] != chosen,
        "explain": explanations(inputs),
        "margins": (margins or [])[:4],
        "crossover_chart": crossover_chart(inputs, outputs),
        "chart_summary": chart_summary(inputs, outputs),
        "savings_positive": Decimal(str(outputs["monthly_savings"])) > 0,
    }


def live_results(result: roi.RoiResult) -> dict:
    """results_context for freshly computed figures (with the thresholds that could flip them)."""
    return results_context(result.inputs, result.as_dict(), margins=roi.threshold_margins(result))


def input_text(spec: roi.FieldSpec, value: object) -> str:
    """One §8 input as people read it: yes/no, dollars, milliseconds, percentages."""
    if value is None:
        return formatting.DASH
    if spec.kind == "bool":
        return formatting.yes_no(value)
    if spec.kind == "choice":
        return str(value).replace("_", " ")
    if spec.name.endswith("_ms"):
        return formatting.ms(value)
    if spec.maximum == 1:  # a share: format errors, accuracy
        return formatting.percent(value)
    if spec.name == "ft_price_multiplier":
        return f"× {formatting.number(value)}"
    if "price" in spec.name or spec.name in ("training_cost", "hourly_rate"):
        return formatting.usd(value)
    return formatting.number(value, 6)


PERSONA_SIDES = {"prompt": "prompt side", "fine-tune": "fine-tune side", "hybrid": "fine-tune side"}


def persona_checklist_evidence(inputs: roi.RoiInputs, evidence: dict | None) -> dict | None:
    """What a persona run measured, next to the checklist checks it bears on: "public-facing
    and robustness 17% (System prompt) against 100% (Fine-tuned) → fine-tune side". None
    without a run; a figure no candidate has is left out."""
    if not evidence or not evidence.get("approaches"):
        return None
    lines = []
    for figure, checks in (
        ("robustness", [(inputs.public_facing, "public-facing")]),
        ("consistency", [(inputs.consistency_critical, "consistency is critical"),
                         (inputs.long_conversations, "long conversations")]),
    ):  # fmt: skip
        measured = [(a, f) for a, f in evidence["approaches"].items() if f.get(figure) is not None]
        if not measured:
            continue
        parts = " against ".join(
            f"{formatting.percent(f[figure])} ({f['label']})" for _, f in measured
        )
        best = max(measured, key=lambda pair: pair[1][figure])[0]
        checked = [label for on, label in checks if on]
        prefix = " and ".join(checked) + " and " if checked else ""
        side = f" → {PERSONA_SIDES.get(best, best)}" if checked and len(measured) > 1 else ""
        lines.append(f"{prefix}{figure} {parts}{side}")
    return {"run": evidence["run"], "name": evidence["name"], "lines": lines}
