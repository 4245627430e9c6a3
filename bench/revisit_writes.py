"""Rows written for the revisit triggers of accepted decisions, per workload assessment, on the
production path (assessment → `workloads_assessed` → decisions' revisit check).

N accepted decisions on one workload share a trigger that keeps firing (monthly requests >
1,000) and a webhook that wants `decision.needs_revisit`; the workload is assessed A times,
with usage that grows between assessments ("drifting": the figure changes every time) or not
("steady"). Prints JSON: per assessment, the read and write statements and the rows written
on the decisions tables and the webhook deliveries created; at the end, the revisit reasons
each decision holds. Uses a throwaway test database (SQLite, or PostgreSQL when DATABASE_URL
is set).

    DEBUG=1 SECRET_KEY=bench .venv/bin/python bench/revisit_writes.py [--decisions 20] \
        [--assessments 7]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Webhook deliveries are enqueued after commit: an in-memory broker takes them, nothing is sent.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from decisions.models import DecisionRecord, DecisionStatus  # noqa: E402
from teams.models import Webhook, WebhookDelivery, WebhookEvent  # noqa: E402
from teams.services import team_create  # noqa: E402
from workloads.models import Assessment, Workload  # noqa: E402
from workloads.services.assessments import assessment_create  # noqa: E402
from workloads.usage_ingest import UsageRow, store_rows  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20)
    parser.add_argument("--assessments", type=int, default=7)
    args = parser.parse_args()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        report = {
            "database": connection.vendor,
            "decisions": args.decisions,
            "assessments": args.assessments,
            **{
                scenario: run(scenario, args.decisions, args.assessments)
                for scenario in ("drifting", "steady")
            },
        }
    finally:
        teardown_databases(databases, verbosity=0)
    print(json.dumps(report, indent=2))


def run(scenario: str, decisions: int, assessments: int) -> dict:
    user = get_user_model().objects.create(username=f"bench-{scenario}")
    team = team_create(slug=f"bench-{scenario}", name=scenario, admin=user)
    Webhook.objects.create(
        team=team, url="https://hooks.example.com/revisit", secret="s" * 32,
        events=[WebhookEvent.DECISION_NEEDS_REVISIT],
    )  # fmt: skip
    workload = Workload.objects.create(
        team=team, slug="support-bot", name="Support bot", model="gpt-4o-mini",
        parameters={"user_tokens": 300, "prompt_overhead_tokens": 1500, "output_tokens": 100},
    )  # fmt: skip
    trigger = {"metric": "monthly_requests", "comparator": ">", "threshold": 1000}
    DecisionRecord.objects.bulk_create(
        DecisionRecord(
            team=team,
            number=n,
            title=f"Decision {n}",
            status=DecisionStatus.ACCEPTED,
            workload=workload,
            approach="prompt",
            revisit_triggers=[trigger],
        )  # fmt: skip
        for n in range(1, decisions + 1)
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for hour in range(1, 49):
        _usage(workload, now - timedelta(hours=hour))
    per_assessment = []
    for i in range(assessments):
        if scenario == "drifting" and i:
            _usage(workload, now - timedelta(hours=48 + i))
        deliveries = WebhookDelivery.objects.filter(team=team).count()
        with _writes() as counted:
            assessment_create(workload=workload, reason=Assessment.Reason.USAGE)
        counted["webhook_deliveries"] = (
            WebhookDelivery.objects.filter(team=team).count() - deliveries
        )
        per_assessment.append(counted)
    reasons = {d.revisit_reasons.count() for d in DecisionRecord.objects.for_team(team)}
    return {
        "per_assessment": per_assessment,
        "decision_rows_written": sum(a["decision_rows"] for a in per_assessment),
        "decision_statements": sum(a["decision_statements"] for a in per_assessment),
        "decision_reads": sum(a["decision_reads"] for a in per_assessment),
        "rows_by_table": _totals(a["rows_by_table"] for a in per_assessment),
        "webhook_deliveries": sum(a["webhook_deliveries"] for a in per_assessment),
        "reasons_per_decision": sorted(reasons),
    }


def _totals(tables) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in tables:
        for table, rows in counts.items():
            totals[table] = totals.get(table, 0) + rows
    return totals


def _usage(workload: Workload, start: datetime) -> None:
    row = UsageRow(
        workload_id=workload.pk, client_id=None, period_start=start,
        period_end=start + timedelta(hours=1), requests=100, input_tokens=180_000,
        output_tokens=10_000, approach="", model="gpt-4o-mini", latency_p50_ms=None,
        latency_p99_ms=None, format_errors=None, cost_usd=None,
    )  # fmt: skip
    store_rows(team_id=workload.team_id, rows=[row])


@contextmanager
def _writes():
    """Counts the write statements on the decisions tables and the rows they touched, by table."""
    counted = {"decision_reads": 0, "decision_statements": 0, "decision_rows": 0,
               "rows_by_table": {}}  # fmt: skip

    def count(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("SELECT") and '"decisions_' in sql:
            counted["decision_reads"] += 1
        table = _TABLE.match(sql)
        if table and table.group(1).startswith("decisions_"):
            # An INSERT … RETURNING reports -1 before its rows are read: one row per statement.
            rows = max(context["cursor"].rowcount, 1)
            counted["decision_statements"] += 1
            counted["decision_rows"] += rows
            by_table = counted["rows_by_table"]
            by_table[table.group(1)] = by_table.get(table.group(1), 0) + rows
        return result

    with connection.execute_wrapper(count):
        yield counted


_TABLE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"(\w+)"', re.I)


if __name__ == "__main__":
    main()
