"""Pages, APIs, the sweep and a wide push at a thousand workloads.

Generates one team holding (at --scale 1) 1,000 workloads, 1,000,000 hourly usage rows over six
months, 5,000 assessments, 565 live flags, 2,000 worksheets and 10,000 decision records with
about 24,500 revisions (bulk inserts and COPY: a few minutes), and a second team of
--sweep-workloads workloads for the sweep (default 10,000; usage over the last 35 days, an
accepted decision with a revisit trigger each, flags live from a first round). The database is
then vacuumed and analyzed (as autovacuum would have), and the benchmark measures:

- every list and detail page and API endpoint over HTTP against gunicorn (2 workers, DEBUG off):
  p50/p95 of --requests sequential requests after two warm-up requests, and the number of SQL
  queries of one request (in process, through Django's test client);
- the sweep: every workload marked as having new usage, then `assessment_sweep` with tasks run
  eagerly in this process (the work one worker process does, with its query count);
- the sweep over the second team, its batches run by one real Celery worker process: from the
  sweep's start to the last assessment stored;
- one push touching every workload (one record each) over HTTP: the answer's latency.

Prints JSON. --scale 0.01 makes a quick run (10 workloads, 10,000 usage rows, …). The database
(--database, default cx_bench_scale) is dropped at the end unless --keep; --reuse measures a kept
one again without generating (it is migrated first).

    .venv/bin/python bench/scale.py [--scale 1] [--requests 20] [--port 18401] [--keep|--reuse]

Needs PostgreSQL at PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432, postgres) and Redis at
CELERY_BROKER_URL (default redis://127.0.0.1:6379/14: the push enqueues, the worker reads; the
broker's queue is purged afterwards).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEAM = "scale"
SWEEP_TEAM = "sweep"
_PARAGRAPH = (
    "latency budget prompt tokens fine-tune classifier persona retrieval cache throughput "
    "accuracy drift schema format errors evaluation benchmark vendor pricing contract support "
    "ticket routing summarise translate moderation onboarding invoices search ranking embeddings "
    "context window overhead training epochs dataset labelled examples consistency public "
    "assistant internal tooling migration rollback outage incident review quarterly forecast "
    "volume crossover payback savings monthly hourly regional compliance privacy audit"
)
WORDS = _PARAGRAPH.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per endpoint")
    parser.add_argument("--port", type=int, default=18401)
    parser.add_argument("--database", default="cx_bench_scale")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument(
        "--sweep-workloads", type=int, default=10_000,
        help="workloads of the team whose sweep one worker process runs (0: none)",
    )  # fmt: skip
    parser.add_argument("--only", default="", help="comma-separated endpoint names to measure")
    args = parser.parse_args()

    host = os.environ.get("PGHOST", "127.0.0.1")
    pgport = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    admin_dsn = f"postgresql://{user}@{host}:{pgport}/postgres"
    url = f"postgres://{user}@{host}:{pgport}/{args.database}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "API_TOKEN_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    # The worker timing the sweep and the push's publishes go through Redis, as in production.
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    os.environ.update(env)
    if not args.reuse:
        _recreate(admin_dsn, args.database)
    server = None
    report: dict = {
        "benchmark": "scale",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "scale": args.scale,
    }
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
            check=True,
        )  # fmt: skip
        # DEBUG off serves hashed static names from the manifest.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
            env=env, check=True,
        )  # fmt: skip
        import django

        django.setup()
        began = time.perf_counter()
        if not args.reuse:
            report["generated"] = generate(args.scale)
            report["generate_s"] = round(time.perf_counter() - began, 1)
        else:
            report["generated"] = counts()
        if not args.skip_sweep and args.sweep_workloads:
            # Made before the pages are measured: another team's data must not slow this one's.
            report["sweep_team"] = ensure_sweep_team(args.sweep_workloads)
        report["postgresql"] = _vacuumed()
        session, token = credentials()
        endpoints = endpoint_list()
        if args.only:
            wanted = set(args.only.split(","))
            endpoints = [e for e in endpoints if e[0] in wanted]
        report["queries"] = {name: query_count(method, path, session, token)
                             for name, method, path, _ in endpoints}  # fmt: skip
        server = _gunicorn(env, args.port)
        report["http"] = {}
        for name, method, path, runs in endpoints:
            report["http"][name] = time_endpoint(
                args.port, method, path, session, token, min(runs, args.requests)
            )
            print(name, json.dumps(report["http"][name]), file=sys.stderr)
        report["push"] = time_push(args.port, token, runs=20)
        report["export"] = time_export(args.port, token)
        if not args.skip_sweep:
            report["sweep"] = time_sweep()
            if args.sweep_workloads:
                report["sweep_worker"] = time_sweep_worker(env)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        _purge_broker()
        if not (args.keep or args.reuse):
            from django.db import connections

            connections.close_all()
            _drop(admin_dsn, args.database)
    print(json.dumps(report, indent=2))


# --- the data set -------------------------------------------------------------------------------


def generate(scale: float) -> dict:  # noqa: C901 - one recipe, top to bottom
    """The issue's data set, `scale` times over (bulk inserts; usage by COPY)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from decisions.models import DecisionRecord, DecisionRevision
    from teams.services import team_create
    from workloads.models import Assessment, FlagStatus, SwitchFlag, Worksheet
    from workloads.selectors import workload_planned_result
    from workloads.services.flags import _reasons, flag_figures

    rng = random.Random(15)
    n_workloads = max(10, round(1000 * scale))
    n_decisions = max(100, round(10_000 * scale))
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    User = get_user_model()
    admin = User.objects.create_user("scale", password="scale")  # noqa: S106 - bench only
    team = team_create(slug=TEAM, name="Scale", admin=admin)

    workloads = make_workloads(team, n_workloads, rng)
    # Usage: hourly rows ending at the last complete hour. A fifth of the workloads have six
    # months of history, the others about a week: 1,000,000 rows at scale 1.
    copy_usage(team, workloads, now, long_hours=4380, short_hours=155)

    # Assessments: one real one per workload, then four older copies of each (5 per workload).
    assess_all(team, now)
    with connection.cursor() as cursor:
        for k in range(1, 5):
            cursor.execute(
                "INSERT INTO workloads_assessment (team_id, workload_id, reason, current_approach,"
                " observed, inputs, outputs, recommendation, errors, created_at) "
                "SELECT team_id, workload_id, 'usage', current_approach, observed, inputs, "
                "outputs, recommendation, errors, created_at - %s * interval '1 day' "
                "FROM workloads_assessment WHERE team_id = %s AND created_at = %s",
                [k, team.pk, now],
            )
    # Flags: 565 live (500 open, the rest acknowledged or dismissed) whatever the assessments
    # raised.
    SwitchFlag.objects.filter(team=team).delete()
    latest = {a.workload_id: a for a in Assessment.objects.filter(team=team, created_at=now)}
    n_flags = round(565 * n_workloads / 1000)
    flags = []
    for i, workload in enumerate(workloads[:n_flags]):
        status = (
            FlagStatus.OPEN
            if i < round(n_flags * 500 / 565)
            else (FlagStatus.ACKNOWLEDGED if i % 2 else FlagStatus.DISMISSED)
        )
        flags.append(
            SwitchFlag(
                team=team,
                workload=workload,
                assessment=latest[workload.pk],
                from_approach=workload.current_approach,
                to_approach="fine-tune" if workload.current_approach != "fine-tune" else "prompt",
                status=status,
                reasons=_reasons(latest[workload.pk]),
                figures=flag_figures(latest[workload.pk]),
                created_at=now - timedelta(hours=i),
            )
        )
    SwitchFlag.objects.bulk_create(flags, batch_size=1000)

    # Worksheets: two versions per workload.
    sheets = []
    for workload in workloads:
        result, _errors = workload_planned_result(workload)
        if result is None:
            continue
        for version in (1, 2):
            sheets.append(
                Worksheet(
                    team=team,
                    workload=workload,
                    version=version,
                    title=f"Analysis {version} of {workload.name}",
                    inputs=result.inputs.as_dict(),
                    outputs=result.as_dict(),
                    recommendation=result.recommendation,
                    justification=" ".join(rng.choices(WORDS, k=40)),
                    author=admin,
                    created_at=now - timedelta(days=10 - version),
                )
            )
    Worksheet.objects.bulk_create(sheets, batch_size=1000)

    # Decisions with revisions.
    statuses = ["draft", "proposed", "accepted", "accepted", "rejected", "deprecated"]
    records = []
    for n in range(1, n_decisions + 1):
        workload = workloads[n % len(workloads)]
        status = statuses[n % len(statuses)]
        records.append(
            DecisionRecord(
                team=team,
                number=n,
                title=f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} for {workload.name}",
                status=status,
                date=(now - timedelta(days=n % 365)).date(),
                decision_makers=["alice", "bob"],
                consulted=["carol"],
                informed=["team"],
                context_and_problem_statement=" ".join(rng.choices(WORDS, k=120)),
                decision_drivers=[" ".join(rng.choices(WORDS, k=6)) for _ in range(3)],
                considered_options=[
                    {
                        "title": title,
                        "description": " ".join(rng.choices(WORDS, k=20)),
                        "arguments": [
                            {"kind": "good", "text": " ".join(rng.choices(WORDS, k=8))},
                            {"kind": "bad", "text": " ".join(rng.choices(WORDS, k=8))},
                        ],
                    }
                    for title in ("Keep prompting", "Fine-tune")
                ],
                chosen_option="Fine-tune" if status in ("accepted", "deprecated") else "",
                justification=" ".join(rng.choices(WORDS, k=60)),
                consequences=" ".join(rng.choices(WORDS, k=60)),
                confirmation=" ".join(rng.choices(WORDS, k=20)),
                more_information=" ".join(rng.choices(WORDS, k=20)),
                approach="fine-tune" if status in ("accepted", "deprecated") else "",
                workload=workload,
                created_by=admin,
                created_at=now - timedelta(days=n % 365),
                updated_at=now - timedelta(days=n % 365),
            )
        )
    with transaction.atomic():
        DecisionRecord.objects.bulk_create(records, batch_size=1000)
    revisions = []
    for record in DecisionRecord.objects.filter(team=team).only("pk", "number", "title"):
        count = 2 + (record.number % 100 < 45)  # 2.45 per record on average
        for number in range(1, count + 1):
            revisions.append(
                DecisionRevision(
                    team=team,
                    decision_id=record.pk,
                    number=number,
                    snapshot={"number": record.number, "title": record.title, "revision": number},
                    note="edited" if number > 1 else "created",
                    author=admin,
                    created_at=now - timedelta(days=30 - number),
                )
            )
    DecisionRevision.objects.bulk_create(revisions, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts()


def make_workloads(team, n: int, rng: random.Random) -> list:
    """`n` workloads on every approach, with planned parameters (bulk insert)."""
    from workloads.models import Workload

    approaches = ["prompt", "prompt", "prompt", "fine-tune", "hybrid"]
    workloads = []
    for i in range(n):
        workloads.append(
            Workload(
                team=team,
                slug=f"workload-{i:05d}",
                name=f"Workload {i:05d} {rng.choice(WORDS)}",
                description=" ".join(rng.choices(WORDS, k=30)),
                current_approach=approaches[i % len(approaches)],
                model="gpt-4o-mini",
                ft_model="ft:gpt-4o-mini:acme::x" if i % 3 == 0 else "",
                parameters={
                    "monthly_requests": 10_000 * (1 + i % 400),
                    "user_tokens": 50 + i % 200,
                    "prompt_overhead_tokens": 300 + (i * 7) % 1500,
                    "output_tokens": 40 + i % 300,
                    "horizon_months": 6,
                    "training_examples": 1000 + i % 2000,
                    "training_tokens_per_example": 300,
                    "epochs": 3,
                    "dev_hours": 16 + i % 24,
                    "latency_sla_ms": 800,
                    "format_error_threshold": 0.05,
                    "labeled_examples": 1500,
                    "accuracy_target": 0.9,
                },
            )
        )
    Workload.objects.bulk_create(workloads, batch_size=1000)
    return list(Workload.objects.filter(team=team).order_by("pk"))


def assess_all(team, now) -> None:
    """One assessment of every workload of `team`, in the sweep's batches."""
    from workloads.models import Assessment, Workload
    from workloads.services.assessments import BATCH, assessments_create

    workloads = list(Workload.objects.filter(team=team).select_related("team").order_by("pk"))
    for offset in range(0, len(workloads), BATCH):
        assessments_create(
            workloads=workloads[offset : offset + BATCH], reason=Assessment.Reason.SWEEP, now=now
        )


def copy_usage(team, workloads: list, now, *, long_hours: int, short_hours: int) -> int:
    """Hourly usage rows ending at `now` by COPY: every fifth workload has `long_hours` of
    history, the others `short_hours`; then the daily rollup. Returns the number of rows."""
    from django.db import connection

    from workloads.models import Workload

    columns = (
        "team_id, workload_id, client_id, period_start, period_end, requests, input_tokens, "
        "output_tokens, approach, model, latency_p50_ms, latency_p99_ms, format_errors, "
        "cost_usd, received_at"
    )
    received = now.isoformat()
    rows = 0
    sql = f"COPY workloads_usagerecord ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for index, workload in enumerate(workloads):
            hours = long_hours if index % 5 == 0 else short_hours
            base = 200 + index % 500
            lines = []
            for h in range(hours, 0, -1):
                start = now - timedelta(hours=h)
                requests = base + (h * 37 + index) % 150
                lines.append(
                    f"{team.pk}\t{workload.pk}\tu-{workload.pk}-{h}\t{start.isoformat()}\t"
                    f"{(start + timedelta(hours=1)).isoformat()}\t{requests}\t"
                    f"{requests * 600}\t{requests * 90}\tprompt\tgpt-4o-mini\t210.5\t"
                    f"{500 + (h * 13) % 700}\t{(h + index) % 7}\t0.0143\t{received}\n"
                )
            copy.write("".join(lines))
            rows += hours
    _after_usage_copy(team)
    Workload.objects.filter(team=team).update(usage_changed_at=now)
    return rows


def _after_usage_copy(team) -> None:
    """Whatever ingestion maintains beside the raw rows (none before the rollup exists)."""
    try:
        from workloads.usage_ingest import rollup_rebuild
    except ImportError:
        return
    rollup_rebuild(team_id=team.pk)


def counts() -> dict:
    """What the measured team holds (the sweep's team is counted apart)."""
    from decisions.models import DecisionRecord, DecisionRevision
    from workloads.models import Assessment, SwitchFlag, UsageRecord, Workload, Worksheet

    mine = {"team__slug": TEAM}
    return {
        "workloads": Workload.objects.filter(**mine).count(),
        "usage_rows": UsageRecord.objects.filter(**mine).count(),
        "assessments": Assessment.objects.filter(**mine).count(),
        "live_flags": SwitchFlag.objects.filter(**mine).live().count(),
        "worksheets": Worksheet.objects.filter(**mine).count(),
        "decisions": DecisionRecord.objects.filter(**mine).count(),
        "revisions": DecisionRevision.objects.filter(decision__team__slug=TEAM).count(),
    }


# --- what is measured ---------------------------------------------------------------------------


def credentials() -> tuple[str, str]:
    """A session cookie of the team's admin and a bearer token with every scope."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from teams.models import Scope, Team
    from teams.services import api_token_create

    user = get_user_model().objects.get(username="scale")
    client = Client()
    client.force_login(user)
    team = Team.objects.get(slug=TEAM)
    _, raw = api_token_create(team=team, name=f"bench {time.time()}", scopes=list(Scope.values))
    return client.cookies["sessionid"].value, raw


def endpoint_list() -> list[tuple[str, str, str, int]]:
    """(name, "page"|"api", path, maximum timed requests) for every list and detail endpoint."""
    from decisions.models import DecisionRecord
    from workloads.models import SwitchFlag, Workload, Worksheet

    workload = Workload.objects.filter(team__slug=TEAM).order_by("pk").first()
    flag = SwitchFlag.objects.filter(team__slug=TEAM).order_by("pk").first()
    sheet = Worksheet.objects.filter(workload=workload).order_by("-version").first()
    number = DecisionRecord.objects.filter(team__slug=TEAM).order_by("number").first().number
    t = f"/t/{TEAM}"
    slug = workload.slug
    many = 10_000
    return [
        ("dashboard", "page", f"{t}/", many),
        ("workloads_list", "page", f"{t}/workloads/", many),
        ("workload_detail", "page", f"{t}/workloads/{slug}/", many),
        ("workload_usage", "page", f"{t}/workloads/{slug}/usage/", many),
        ("workload_figures", "page", f"{t}/workloads/{slug}/figures/", many),
        ("workload_setup", "page", f"{t}/workloads/{slug}/setup/", many),
        ("workload_decisions", "page", f"{t}/workloads/{slug}/decisions/", many),
        ("worksheets_list", "page", f"{t}/worksheets/", many),
        ("worksheet_new", "page", f"{t}/worksheets/new/?workload={slug}", many),
        ("worksheet_detail", "page", f"{t}/workloads/{slug}/worksheets/{sheet.version}/", many),
        ("flags_list", "page", f"{t}/flags/", many),
        ("flag_detail", "page", f"{t}/flags/{flag.pk}/", many),
        ("decision_log", "page", f"{t}/decisions/", many),
        ("decision_log_q", "page", f"{t}/decisions/?q=latency", many),
        ("decision_log_title_q", "page", f"{t}/decisions/?q=rollback", many),
        ("decision_detail", "page", f"{t}/decisions/{number}/", many),
        ("decisions_export_zip", "page", f"{t}/decisions/export.zip", many),
        ("decision_exports", "page", f"{t}/decisions/exports/", many),
        ("api_workloads", "api", "/api/v1/workloads", many),
        ("api_workload", "api", f"/api/v1/workloads/{slug}", many),
        ("api_flags", "api", "/api/v1/flags", many),
        ("api_flags_open", "api", "/api/v1/flags?status=open", many),
        ("api_decisions", "api", "/api/v1/decisions", many),
        ("api_decisions_q", "api", "/api/v1/decisions?q=latency", many),
        ("api_decision", "api", f"/api/v1/decisions/{number}", many),
        ("api_decision_revisions", "api", f"/api/v1/decisions/{number}/revisions", many),
        ("api_decisions_export_zip", "api", "/api/v1/decisions/export.zip", many),
        ("api_decision_exports", "api", "/api/v1/decisions/exports", many),
    ]


def _headers(kind: str, session: str, token: str) -> dict:
    if kind == "api":
        return {"Authorization": f"Bearer {token}"}
    return {"Cookie": f"sessionid={session}"}


def query_count(kind: str, path: str, session: str, token: str) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if kind == "api" else {}
    if kind == "page":
        client.cookies["sessionid"] = session
    client.get(path, **headers)  # warm caches the way a running server has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return {"status": response.status_code, "queries": len(queries), "bytes": len(body)}


def time_endpoint(port: int, kind: str, path: str, session: str, token: str, runs: int) -> dict:
    headers = _headers(kind, session, token)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    times = []
    status = None
    size = 0
    for i in range(runs + 2):
        began = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            status, size = response.status, len(body)
            closing = response.will_close
        except (OSError, http.client.HTTPException) as exc:
            # A worker killed by its timeout drops the connection: that is a result too.
            status, size, closing = f"no answer ({type(exc).__name__})", 0, True
        elapsed = time.perf_counter() - began
        if closing:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        if i >= 2:
            times.append(elapsed * 1000)
    conn.close()
    return {"status": status, "bytes": size, "runs": runs, **_percentiles(times)}


def _percentiles(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1)}


def time_push(port: int, token: str, *, runs: int) -> dict:
    """POST one record for every workload of the team; claims are released between pushes so
    that every push fans out to every workload. Two warm-up pushes come first, untimed, as for
    every endpoint."""
    from workloads.models import Workload

    slugs = list(Workload.objects.filter(team__slug=TEAM).values_list("slug", flat=True))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    times, accepted = [], []
    for run in range(runs + 2):
        Workload.objects.filter(team__slug=TEAM).update(assessment_requested_at=None)
        body = json.dumps(
            {
                "records": [
                    {
                        "workload": slug,
                        "period_start": (start + timedelta(seconds=run)).isoformat(),
                        "period_end": (start + timedelta(seconds=run + 1)).isoformat(),
                        "requests": 3,
                        "input_tokens": 1800,
                        "output_tokens": 270,
                        "id": f"push-{time.time_ns()}-{slug}",
                    }
                    for slug in slugs
                ]
            }
        ).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        began = time.perf_counter()
        conn.request("POST", "/api/v1/usage", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        times.append((time.perf_counter() - began) * 1000)
        conn.close()
        if response.status != 201:
            raise SystemExit(f"push failed: {response.status} {answer[:300]!r}")
        accepted.append(json.loads(answer)["accepted"])
    _purge_broker()
    times, accepted = times[2:], accepted[2:]
    return {"workloads": len(slugs), "runs": runs, "accepted": accepted, **_percentiles(times)}


def time_export(port: int, token: str) -> dict:
    """An export of the whole log built in the background: the answer to starting it (HTTP), the
    build (in this process: the work one worker does), and the download of the archive (HTTP)."""
    from decisions.services.exports import decision_export_build

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    began = time.perf_counter()
    conn.request("POST", "/api/v1/decisions/exports", body=b'{"format": "madr4"}', headers=headers)
    response = conn.getresponse()
    started = json.loads(response.read())
    start_ms = (time.perf_counter() - began) * 1000
    if response.status != 202:
        raise SystemExit(f"export failed to start: {response.status} {started}")
    began = time.perf_counter()
    status = decision_export_build(export_id=started["id"])
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    conn.request("GET", f"/api/v1/decisions/exports/{started['id']}/download", headers=headers)
    archive = conn.getresponse()
    body = archive.read()
    download_ms = (time.perf_counter() - began) * 1000
    conn.close()
    _purge_broker()
    return {"status": status, "start_ms": round(start_ms, 1), "build_s": round(build_s, 2),
            "download_status": archive.status, "download_ms": round(download_ms, 1),
            "bytes": len(body)}  # fmt: skip


def time_sweep() -> dict:
    """Mark every workload as having new usage and run the sweep with its tasks in process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from config.celery import app
    from workloads.models import Assessment, Workload
    from workloads.services.assessments import assessment_sweep

    Workload.objects.filter(team__slug=TEAM).update(
        usage_changed_at=timezone.now(), assessment_requested_at=None
    )
    before = Assessment.objects.count()
    app.conf.task_always_eager = True
    try:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            assessment_sweep()
            elapsed = time.perf_counter() - began
    finally:
        app.conf.task_always_eager = False
    return {
        "workloads": Workload.objects.filter(team__slug=TEAM).count(),
        "assessments_made": Assessment.objects.count() - before,
        "seconds": round(elapsed, 2),
        "queries": len(queries),
    }


def ensure_sweep_team(n: int) -> dict:
    """A team of `n` workloads for the sweep alone (made once; --reuse keeps it): 35 days of
    hourly usage for a fifth of them and a week for the others (an assessment reads 30 days),
    one accepted decision with a revisit trigger per workload, and one round of assessments
    (which raises the flags the next sweep keeps up to date)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from decisions.models import DecisionRecord
    from teams.models import Team
    from teams.services import team_create
    from workloads.models import SwitchFlag, UsageRecord, Workload

    team = Team.objects.filter(slug=SWEEP_TEAM).first()
    made_s = None
    if team is None or Workload.objects.filter(team=team).count() != n:
        began = time.perf_counter()
        if team is not None:
            team.delete()
        admin = get_user_model().objects.get(username="scale")
        team = team_create(slug=SWEEP_TEAM, name="Sweep", admin=admin)
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        workloads = make_workloads(team, n, random.Random(16))
        copy_usage(team, workloads, now, long_hours=35 * 24, short_hours=155)
        trigger = [{"metric": "monthly_requests", "comparator": ">", "threshold": 10**9}]
        with transaction.atomic():
            DecisionRecord.objects.bulk_create(
                [
                    DecisionRecord(
                        team=team,
                        number=i + 1,
                        title=f"Keep {workload.name} as it runs",
                        status="accepted",
                        workload=workload,
                        revisit_triggers=trigger,
                        approach=workload.current_approach,
                        created_by=admin,
                    )  # fmt: skip
                    for i, workload in enumerate(workloads)
                ],
                batch_size=1000,
            )
        assess_all(team, now)
        made_s = round(time.perf_counter() - began, 1)
    return {
        "team": SWEEP_TEAM,
        "workloads": Workload.objects.filter(team=team).count(),
        "usage_rows": UsageRecord.objects.filter(team=team).count(),
        "accepted_decisions": DecisionRecord.objects.filter(team=team).count(),
        "live_flags": SwitchFlag.objects.filter(team=team, resolved_at=None).count(),
        "generate_s": made_s,
    }


def time_sweep_worker(env: dict) -> dict:
    """Every workload of the sweep team marked as having new usage, then `assessment_sweep`:
    its batches are run by one real Celery worker process (solo pool) over the broker; the
    time is from the sweep's start to the last assessment stored."""
    from django.utils import timezone

    from workloads.models import Assessment, Workload
    from workloads.services.assessments import assessment_sweep

    workloads = Workload.objects.filter(team__slug=SWEEP_TEAM)
    _purge_broker()
    worker = _worker(env)
    try:
        workloads.update(usage_changed_at=timezone.now(), assessment_requested_at=None)
        before = Assessment.objects.filter(team__slug=SWEEP_TEAM).count()
        began = time.perf_counter()
        claimed = len(assessment_sweep())
        enqueued = time.perf_counter() - began
        made = 0
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            made = Assessment.objects.filter(team__slug=SWEEP_TEAM).count() - before
            if made >= claimed:
                break
            if worker.poll() is not None:
                raise SystemExit("the worker died:\n" + "".join(worker.log[-30:]))
            time.sleep(0.1)
        elapsed = time.perf_counter() - began
        rss = _peak_rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return {
        "workloads": workloads.count(),
        "claimed": claimed,
        "assessments_made": made,
        "claim_and_publish_s": round(enqueued, 2),
        "seconds": round(elapsed, 2),
        "ms_per_workload": round(elapsed * 1000 / max(made, 1), 2),
        "worker_peak_rss_mb": round(rss, 1),
    }


# --- infrastructure -----------------------------------------------------------------------------


def _vacuumed() -> dict:
    """`VACUUM ANALYZE` the data set before measuring, as autovacuum would have between runs
    (this machine's server runs without it), and say how the server is set."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        (autovacuum,) = cursor.fetchone()
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
        began = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
    return {
        "server_version": version,
        "autovacuum": autovacuum,
        "vacuum_analyze_s": round(time.perf_counter() - began, 1),
    }


def _gunicorn(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}"]
    if (ROOT / "config" / "gunicorn.py").exists():
        command += ["-c", "config/gunicorn.py"]
    else:
        command += ["-w", "2", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sys.stderr)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited (is port {port} taken?)")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            time.sleep(1)
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited (is port {port} taken?)")
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _worker(env: dict) -> subprocess.Popen:
    """One Celery worker process on the default queue (solo pool), once it answers a ping."""
    import threading

    from config.celery import app

    name = f"sweep-{os.getpid()}@{platform.node()}"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default",
               "--pool", "solo", "--loglevel", "WARNING", "-n", name, "--without-gossip",
               "--without-mingle", "--without-heartbeat"]  # fmt: skip
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)  # fmt: skip
    worker.log = []
    threading.Thread(target=lambda: worker.log.extend(worker.stdout), daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(destination=[name], timeout=0.5):
            return worker
        if worker.poll() is not None:
            raise SystemExit("the worker did not start:\n" + "".join(worker.log[-30:]))
    worker.terminate()
    raise SystemExit("the worker did not answer a ping within 60 s")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _purge_broker() -> None:
    try:
        from config.celery import app

        app.control.purge()
    except Exception as exc:  # noqa: BLE001 - best effort: the broker may be down
        print(f"could not purge the broker: {exc}", file=sys.stderr)


def _recreate(admin_dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(admin_dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
