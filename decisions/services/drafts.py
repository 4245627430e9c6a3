"""Draft decisions prefilled from what prompted them: a saved worksheet (its figures, the four
approaches argued with the frameworks' verdicts, its recommendation as the proposed outcome) or
a switch flag (its reasons and figures, with the assessment as evidence)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from decisions import triggers
from decisions.models import DecisionRecord
from decisions.services.records import decision_create
from workloads import formatting as fmt
from workloads import roi
from workloads.models import Approach, SwitchFlag, Workload, Worksheet
from workloads.services.flags import flag_link_decision

APPROACH_PHRASES = {key: name.phrase for key, name in roi.APPROACHES.items()}


def _phrase(approach: str) -> str:
    return APPROACH_PHRASES.get(approach, approach)


def _title(text: str) -> str:
    # A workload's name can be long: a title is one line of at most 200 characters.
    return " ".join(text.split())[:200]


def decision_create_from_worksheet(*, worksheet: Worksheet, author) -> DecisionRecord:
    """A draft ADR prefilled from a saved worksheet: the situation in figures, the drivers,
    the four approaches argued with the frameworks' verdicts, the recommendation as the
    proposed outcome, the worksheet as evidence, and revisit triggers at the thresholds
    nearest to firing."""
    workload, inputs, outputs = worksheet.workload, worksheet.inputs, worksheet.outputs
    recommendation = worksheet.recommendation
    return decision_create(
        team=worksheet.team,
        author=author,
        note=f"Created from {workload.name} worksheet v{worksheet.version}",
        title=_title(f"Run {workload.name} on {APPROACH_PHRASES[recommendation]}"),
        workload=workload,
        approach=recommendation,
        context_and_problem_statement=_worksheet_context(workload, inputs, outputs),
        decision_drivers=_worksheet_drivers(inputs),
        considered_options=_worksheet_options(outputs),
        chosen_option=Approach(recommendation).label,
        justification=worksheet.justification
        or "; ".join(outputs.get("recommendation_reasons") or []),
        consequences="\n".join(f"* Bad, because {w}" for w in outputs.get("warnings") or []),
        revisit_triggers=worksheet_triggers(inputs),
        evidence=[worksheet],
    )


def decision_create_from_flag(*, flag: SwitchFlag, user) -> DecisionRecord:
    """Open a draft decision record prefilled from the flag, with its assessment as evidence,
    and acknowledge the flag."""
    if flag.decision_id:
        return flag.decision
    workload = flag.workload
    current = Approach(flag.from_approach).label.lower()
    target = Approach(flag.to_approach).label.lower()
    figures = fmt.bullets(f"{label}: {value}" for label, value in fmt.figure_rows(flag.figures))
    context = fmt.paragraphs(
        f"{workload.name} runs on {APPROACH_PHRASES[flag.from_approach]}. The live "
        f"assessment of {flag.created_at:%Y-%m-%d %H:%M} UTC recommends "
        f"{APPROACH_PHRASES[flag.to_approach]}.",
        "Why:",
        fmt.bullets(flag.reasons),
        "Figures at that assessment:",
        figures,
    )
    options = [
        {"title": f"Keep {current}", "description": "", "arguments": []},
        {"title": f"Switch to {target}", "description": "", "arguments": []},
    ]
    with transaction.atomic():
        decision = decision_create(
            team=flag.team,
            author=user,
            note=f"Started from switch flag #{flag.pk}.",
            title=_title(f"Switch {workload.name} from {current} to {target}?"),
            workload=workload,
            approach=flag.to_approach,
            context_and_problem_statement=context,
            decision_drivers=list(flag.reasons[1:]),
            considered_options=options,
            evidence=[flag.assessment] if flag.assessment_id else [],
        )
        flag.decision = decision
        flag_link_decision(flag=flag, decision=decision, user=user)
    return decision


def worksheet_triggers(inputs: Mapping, limit: int = 3) -> list[dict]:
    """Revisit triggers at the thresholds nearest to changing a verdict."""
    try:
        margins = roi.threshold_margins(roi.evaluate(roi.parse_inputs(inputs)))
    except roi.RoiInputError:
        return []
    found = []
    for margin in margins:
        metric = triggers.METRICS.get(margin["metric"])
        if margin["distance"] is None or metric is None:
            continue
        # A crossover volume of 376,744.186… requests reads (and compares) as 376,744.
        places = 0 if metric.unit == "count" else 6
        threshold = round(margin["threshold"], places)
        found.append(
            {
                "metric": metric.name,
                "comparator": margin["comparator"],
                "threshold": int(threshold) if threshold == int(threshold) else threshold,
            }
        )
    return found[:limit]


def _figure(metric: str, value: object) -> str:
    return fmt.figure(metric, value) if value is not None else "not measured"


def _worksheet_context(workload: Workload, inputs: Mapping, outputs: Mapping) -> str:
    prompt, fine_tune = outputs.get("prompt") or {}, outputs.get("fine_tune") or {}
    payback = outputs.get("payback_months")
    lines = [
        f"{workload.name} serves {_figure('monthly_requests', inputs.get('monthly_requests'))} "
        f"requests a month: {fmt.tokens(inputs.get('user_tokens'))} user tokens, "
        f"{fmt.tokens(inputs.get('prompt_overhead_tokens'))} prompt-overhead tokens and "
        f"{fmt.tokens(inputs.get('output_tokens'))} output tokens per request "
        f"({_figure('monthly_tokens', outputs.get('monthly_tokens'))} tokens a month).",
        f"Prompted, a request costs {_figure('cost_per_request', prompt.get('cost_per_request'))}"
        f" ({_figure('monthly_cost', prompt.get('monthly_cost'))} a month); on a fine-tuned "
        f"model {_figure('cost_per_request', fine_tune.get('cost_per_request'))} "
        f"({_figure('monthly_cost', fine_tune.get('monthly_cost'))} a month) after a one-time "
        f"investment of {_figure('monthly_cost', outputs.get('investment'))}.",
        f"Fine-tuning {fmt.savings_phrase(outputs.get('monthly_savings'))}"
        + (
            f" and pay back in {_figure('payback_months', payback)}."
            if payback is not None
            else ", so it never pays back at these figures."
        ),
        f"Measured p99 latency: {_figure('latency_p99_ms', inputs.get('latency_p99_ms'))} "
        f"(SLA {_figure('latency_p99_ms', inputs.get('latency_sla_ms'))}); format error rate: "
        f"{_figure('format_error_rate', inputs.get('format_error_rate'))} (threshold "
        f"{_figure('format_error_rate', inputs.get('format_error_threshold'))}).",
    ]
    return "\n\n".join(lines)


def _worksheet_drivers(inputs: Mapping) -> list[str]:
    drivers = [
        f"p99 latency within the {_figure('latency_p99_ms', inputs.get('latency_sla_ms'))} SLA",
        "format errors at most "
        f"{_figure('format_error_rate', inputs.get('format_error_threshold'))}",
        f"fine-tuning must pay back within "
        f"{_figure('payback_months', inputs.get('horizon_months'))}",
    ]
    checks = {
        "consistency_critical": "consistent output is critical",
        "public_facing": "the feature is public-facing",
        "latency_sensitive": "latency-sensitive",
        "time_to_market_critical": "time to market is critical",
        "dynamic_knowledge": "answers depend on knowledge that changes (fine-tuning does not "
        "inject knowledge)",
        "multi_persona": "several personas",
    }
    drivers += [text for key, text in checks.items() if inputs.get(key) is True]
    return drivers


def _worksheet_options(outputs: Mapping) -> list[dict]:
    verdicts = outputs.get("verdicts") or {}
    costs = {
        Approach.PROMPT: outputs.get("prompt") or {},
        Approach.FINE_TUNE: outputs.get("fine_tune") or {},
    }
    options = []
    for approach in Approach:
        arguments = []
        for name, verdict in verdicts.items():
            framework = roi.POLICIES[name].name if name in roi.POLICIES else name
            picked = verdict.get("verdict")
            if picked == approach:
                why = "; ".join(verdict.get("reasons") or [])
                arguments.append({"kind": "good", "text": f"{framework} picks it: {why}"})
            else:
                label = _phrase(picked)
                arguments.append({"kind": "bad", "text": f"{framework} picks {label} instead"})
        cost = costs.get(approach)
        if cost:
            arguments.append(
                {
                    "kind": "neutral",
                    "text": f"it costs {_figure('cost_per_request', cost.get('cost_per_request'))}"
                    f" per request, {_figure('monthly_cost', cost.get('monthly_cost'))} a month",
                }
            )
        options.append({"title": approach.label, "description": "", "arguments": arguments})
    return options
