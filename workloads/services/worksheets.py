"""Saving approach-analysis worksheets as immutable, numbered versions of a workload."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from workloads import roi
from workloads.formatting import plain
from workloads.models import Workload, Worksheet
from workloads.services.assessments import live_roi_data, observe_usage


def worksheet_create(
    *,
    team,
    workload: Workload,
    inputs: roi.RoiInputs,
    justification: str,
    title: str = "",
    author=None,
) -> Worksheet:
    """Evaluate `inputs` and store them with the figures as the workload's next version.

    The workload row is locked while the number is chosen, so concurrent saves get 1, 2, 3…
    (the unique constraint on (workload, version) is the backstop).
    """
    if workload.team_id != team.id:
        raise ValidationError({"workload": ["No such workload in this team."]})
    justification = justification.strip()
    if not justification:
        raise ValidationError(
            {"justification": ["Explain the choice: it is what reviewers and later readers see."]}
        )
    result = roi.evaluate(inputs)
    with transaction.atomic():
        Workload.objects.select_for_update().filter(pk=workload.pk).first()
        last = workload.worksheets.aggregate(last=Max("version"))["last"] or 0
        return Worksheet.objects.create(
            team=team,
            workload=workload,
            version=last + 1,
            title=title.strip(),
            inputs=inputs.as_dict(),
            outputs=result.as_dict(),
            recommendation=result.recommendation,
            justification=justification,
            author=author,
        )


def worksheet_prefill(workload: Workload, *, price_rows=None) -> dict[str, str]:
    """Form values for a new worksheet about `workload`: its parameters, policy and prices,
    with what the last 30 days of usage observed (volume, tokens, p99, format errors)."""
    observed = observe_usage(workload, now=timezone.now())
    data = live_roi_data(workload, observed, price_rows=price_rows)
    return {name: plain(value) for name, value in data.items() if value is not None}
