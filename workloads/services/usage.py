"""Storing pushed usage (POST /api/v1/usage) and asking for the re-assessments it implies."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from teams.models import Team
from workloads import usage_ingest as ingest
from workloads.models import Assessment, Workload
from workloads.services.assessments import assessments_request


@dataclass(frozen=True)
class UsageIngestResult:
    accepted: int
    duplicates: int  # ids already stored for the team, or repeated within the batch

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates}


def usage_ingest(*, team: Team, body: bytes) -> UsageIngestResult:
    """Validate and store a usage body all-or-nothing; raises ``UsageInputError``.

    Each workload that gained rows is marked changed and gets one (coalesced) re-assessment,
    enqueued after commit.
    """
    records = ingest.parse_records(body)
    slugs = {
        r["workload"]
        for r in records
        if isinstance(r, dict)
        and isinstance(r.get("workload"), str)
        and "\x00" not in r["workload"]
    }
    workload_ids = dict(
        Workload.objects.for_team(team).filter(slug__in=slugs).values_list("slug", "id")
    )
    rows, _repeats = ingest.validate_records(records, workload_ids=workload_ids)
    with transaction.atomic():
        added = ingest.store_rows(team_id=team.pk, rows=rows)
        if added:
            assessments_request(
                workload_ids=sorted(added), reason=Assessment.Reason.USAGE, usage_changed=True
            )
    accepted = sum(added.values())
    return UsageIngestResult(accepted=accepted, duplicates=len(records) - accepted)
