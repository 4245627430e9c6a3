"""Shared reads of the evaluations app: dataset lists with their counts, and the leakage check."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from evaluations.models import (
    BenchmarkCandidate,
    BenchmarkResult,
    BenchmarkRun,
    BenchmarkStatus,
    Dataset,
    DatasetItem,
    Split,
)

# Groups shown with their items; every leaking group is counted.
LEAKAGE_EXAMPLES = 25


def datasets_with_counts(team) -> QuerySet[Dataset]:
    """The team's datasets, each annotated with `item_count` and `<split>_count` (one query)."""
    counts = {f"{split}_count": Count("items", filter=Q(items__split=split)) for split in Split}
    return Dataset.objects.for_team(team).annotate(
        item_count=Count("items"), unassigned_count=Count("items", filter=Q(items__split="")),
        **counts,
    )  # fmt: skip


def split_counts(dataset: Dataset) -> dict[str, int]:
    """Items per split, every split present; unassigned items under ""."""
    found = dict(
        DatasetItem.objects.filter(dataset=dataset)
        .values_list("split")
        .annotate(n=Count("id"))
        .values_list("split", "n")
    )
    return {split: found.get(split, 0) for split in (*Split.values, "")}


def tag_counts(dataset: Dataset) -> dict[str, int]:
    """Every tag of the dataset's items with how many items carry it, most used first."""
    counter: Counter[str] = Counter()
    for tags in DatasetItem.objects.filter(dataset=dataset).values_list("tags", flat=True):
        counter.update(tags)
    return dict(sorted(counter.items(), key=lambda pair: (-pair[1], pair[0])))


@dataclass
class LeakGroup:
    kind: str  # exact | normalised
    items: list[DatasetItem]
    splits: list[str]


@dataclass
class LeakageReport:
    """Items whose text appears in more than one split (SPEC §7.2)."""

    groups: int = 0
    exact_groups: int = 0
    items: int = 0
    pairs: dict[str, int] = field(default_factory=dict)  # "train/test" → groups in both
    examples: list[LeakGroup] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.groups == 0


def dataset_leakage(dataset: Dataset, *, examples: int = LEAKAGE_EXAMPLES) -> LeakageReport:
    """Duplicate groups (same normalised text) spread over several splits, in three queries.

    A group is `exact` when all its items are identical, `normalised` when they differ only in
    case, punctuation, spacing or variable names. Unassigned items are not in any split.
    """
    groups = (
        DatasetItem.objects.filter(dataset=dataset)
        .exclude(split="")
        .values("text_hash")
        .annotate(
            splits=Count("split", distinct=True),
            hashes=Count("content_hash", distinct=True),
            n=Count("id"),
        )
        .filter(splits__gt=1)
        .order_by("text_hash")
    )
    leaking = list(groups)
    report = LeakageReport(
        groups=len(leaking),
        exact_groups=sum(1 for group in leaking if group["hashes"] == 1),
        items=sum(group["n"] for group in leaking),
    )
    if not leaking:
        return report
    kinds = {g["text_hash"]: "exact" if g["hashes"] == 1 else "normalised" for g in leaking}
    shown = [group["text_hash"] for group in leaking[:examples]]
    by_hash: dict[str, list[DatasetItem]] = {key: [] for key in shown}
    rows = (
        DatasetItem.objects.filter(dataset=dataset, text_hash__in=shown)
        .exclude(split="")
        .order_by("position")
    )
    for item in rows:
        by_hash[item.text_hash].append(item)
    report.examples = [
        LeakGroup(kinds[key], items, sorted({i.split for i in items}, key=Split.values.index))
        for key, items in by_hash.items()
    ]
    report.pairs = _pairs(dataset, groups.values("text_hash"))
    return report


def _pairs(dataset: Dataset, hashes: QuerySet) -> dict[str, int]:
    splits_of: dict[str, set[str]] = {}
    rows = (
        DatasetItem.objects.filter(dataset=dataset, text_hash__in=hashes)
        .exclude(split="")
        .values_list("text_hash", "split")
        .distinct()
    )
    for key, split in rows:
        splits_of.setdefault(key, set()).add(split)
    pairs: Counter[str] = Counter()
    order = Split.values
    for present in splits_of.values():
        ordered = sorted(present, key=order.index)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                pairs[f"{a}/{b}"] += 1
    return dict(pairs)


# Benchmark runs ---------------------------------------------------------------------------------


def benchmark_runs(team, *, status: str | None = None, workload_slug: str | None = None):
    """The team's runs, newest first, with what a list shows (its workload's slug) joined."""
    runs = BenchmarkRun.objects.for_team(team).select_related("workload", "dataset")
    if status:
        runs = runs.filter(status=status)
    if workload_slug:
        runs = runs.filter(workload__slug=workload_slug)
    return runs.defer("item_ids", "summary")


def benchmark_run_detail(team):
    """Runs with their candidates, providers and pinned prompt versions prefetched."""
    candidates = BenchmarkCandidate.objects.select_related(
        "provider", "prompt_version__template"
    ).order_by("position")
    return (
        BenchmarkRun.objects.for_team(team)
        .select_related("workload", "dataset")
        .defer("item_ids")
        .prefetch_related(Prefetch("candidates", queryset=candidates))
    )


def benchmark_results(run, *, candidate: str | None = None, errors: bool | None = None):
    """A run's per-call rows by item position, then candidate position."""
    rows = BenchmarkResult.objects.filter(run=run).select_related("item", "candidate")
    if candidate:
        rows = rows.filter(candidate__label=candidate)
    if errors is not None:
        rows = rows.exclude(error="") if errors else rows.filter(error="")
    return rows.order_by("item__position", "candidate__position")


# Approaches whose figures the ROI engine's latency and format inputs describe ("under prompt
# engineering"), in order of preference; a run without one gives its first candidate's.
_PROMPTED = ("prompt", "rag")


def benchmark_measurements(*, workload_id: int, since) -> dict | None:
    """What the latest finished run linked to a workload measured, if it finished after `since`:
    `{benchmark, name, candidate, approach, finished_at, latency_p99_ms, format_error_rate,
    cost_per_request}`. The format error rate is 1 − JSON-schema validity when the run scored
    it, else 1 − JSON validity, else None. A run whose candidate answered no call measured
    nothing: the run before it counts."""
    return benchmark_measurements_for(workload_ids=[workload_id], since=since).get(workload_id)


def benchmark_measurements_for(*, workload_ids: list[int], since) -> dict[int, dict]:
    """`benchmark_measurements` of several workloads in two queries: workload id → what was
    measured (workloads without a measuring run are left out)."""
    latest_first = [F("finished_at").desc(), F("pk").desc()]
    runs = (
        BenchmarkRun.objects.filter(
            workload_id__in=workload_ids, status=BenchmarkStatus.FINISHED, finished_at__gte=since
        )
        .annotate(rank=Window(RowNumber(), partition_by=F("workload_id"), order_by=latest_first))
        .filter(rank__lte=MEASURED_RUNS)
        .only("pk", "workload_id", "name", "summary", "finished_at")
        .prefetch_related(
            Prefetch("candidates", BenchmarkCandidate.objects.only("run", "label", "approach"))
        )
        .order_by("workload_id", *latest_first)
    )
    found: dict[int, dict] = {}
    for run in runs:
        if run.workload_id not in found:
            measured = _measured(run)
            if measured is not None:
                found[run.workload_id] = measured
    return found


MEASURED_RUNS = 10  # how far back a workload's evidence looks past runs that measured nothing


def _measured(run: BenchmarkRun) -> dict | None:
    summaries = run.summary.get("candidates")
    if not summaries:
        return None
    approaches = {c.label: c.approach for c in run.candidates.all()}
    chosen = next(
        (c for kind in _PROMPTED for c in summaries if approaches.get(c["label"]) == kind),
        summaries[0],
    )
    if chosen["latency_ms"]["p99"] is None:  # every call of the candidate failed
        return None
    scores = chosen.get("scores") or {}
    adherence = scores.get("json_schema_valid") or scores.get("json_valid")
    return {
        "benchmark": run.pk,
        "name": run.name,
        "candidate": chosen["label"],
        "approach": approaches.get(chosen["label"]),
        "finished_at": run.finished_at.isoformat(),
        "latency_p99_ms": chosen["latency_ms"]["p99"],
        "format_error_rate": None if adherence is None else round(1 - adherence["value"], 6),
        "cost_per_request": chosen.get("cost_per_request"),
    }


def benchmark_latencies(run) -> dict[int, list[float]]:
    """Latencies (ms) of the answered calls, per candidate id."""
    found: dict[int, list[float]] = {}
    rows = BenchmarkResult.objects.filter(run=run, error="", latency_ms__isnull=False)
    for candidate_id, latency in rows.values_list("candidate_id", "latency_ms").iterator():
        found.setdefault(candidate_id, []).append(latency)
    return found


def benchmark_item_rows(run, item_ids: list[int], candidates) -> list[dict]:
    """For each item (in the given order): the item and each candidate's result, or None while
    it is not stored. Two queries whatever the number of items and candidates."""
    items = DatasetItem.objects.in_bulk(item_ids)
    results = {
        (row.item_id, row.candidate_id): row
        for row in BenchmarkResult.objects.filter(run=run, item_id__in=item_ids)
    }
    return [
        {"item": items[pk], "cells": [results.get((pk, c.pk)) for c in candidates]}
        for pk in item_ids
        if pk in items
    ]


def finetune_candidates(team) -> QuerySet:
    """Fine-tuned models ready to benchmark: the team's succeeded fine-tunes whose provider
    still exists, newest first, each with its provider, model and the system prompt it was
    trained with (the prompt to call it with)."""
    from evaluations.finetune_models import FineTuneJob, FineTuneStatus

    return (
        FineTuneJob.objects.for_team(team)
        .filter(status=FineTuneStatus.SUCCEEDED, provider__isnull=False)
        .select_related("provider")
        .only(
            "fine_tuned_model",
            "system_prompt",
            "base_model",
            "provider__name",
            "provider__is_simulated",
            "finished_at",
            "team_id",
        )  # fmt: skip
        .order_by("-finished_at", "-pk")
    )
