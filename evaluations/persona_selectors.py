"""Shared reads of persona specs, their versions and the attacks that mention them."""

from __future__ import annotations

from django.db.models import F, Max, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from evaluations.models import BenchmarkCandidate, BenchmarkRun, BenchmarkStatus
from evaluations.persona_models import PersonaSpec, PersonaVersion


def personas_with_latest(team) -> QuerySet[PersonaSpec]:
    """The team's persona specs, each annotated with `latest_version` (its newest number)."""
    return (
        PersonaSpec.objects.for_team(team)
        .select_related("prompt", "team")
        .annotate(latest_version=Max("versions__number"))
    )


def versions_of(spec: PersonaSpec) -> QuerySet[PersonaVersion]:
    """A spec's versions, newest first, with what their authors' names need."""
    return spec.versions.order_by("-number").select_related("spec", "author", "author_token")


def persona_evidence(workload_id: int) -> dict | None:
    """The consistency and robustness figures of the latest finished persona run linked to a
    workload, per candidate approach: `{run, name, approaches: {APPROACH: {label, consistency,
    robustness}}}`; None when no such run exists. Consistency is the long-conversation column
    (where prompted personas drift); robustness the overall share of attacks held."""
    return persona_evidence_for([workload_id]).get(workload_id)


def persona_evidence_for(workload_ids: list[int]) -> dict[int, dict]:
    """`persona_evidence` of several workloads in two queries: workload id → evidence
    (workloads without a finished persona run are left out)."""
    latest_first = [F("finished_at").desc(), F("id").desc()]
    runs = (
        BenchmarkRun.objects.filter(
            workload_id__in=workload_ids, status=BenchmarkStatus.FINISHED, persona__isnull=False
        )
        .annotate(rank=Window(RowNumber(), partition_by=F("workload_id"), order_by=latest_first))
        .filter(rank=1)
        .only("pk", "workload_id", "name", "summary")
        .prefetch_related(
            Prefetch("candidates", BenchmarkCandidate.objects.only("run", "label", "approach"))
        )
    )
    return {run.workload_id: _persona_figures(run) for run in runs}


def _persona_figures(run: BenchmarkRun) -> dict:
    approaches = {candidate.label: candidate.approach for candidate in run.candidates.all()}
    figures: dict[str, dict] = {}
    for candidate in (run.summary or {}).get("candidates", []):
        approach = approaches.get(candidate["label"])
        if approach is None or approach in figures:
            continue  # the first candidate of an approach speaks for it
        long = (candidate.get("consistency") or {}).get("long")
        held = (candidate.get("robustness") or {}).get("overall")
        figures[approach] = {
            "label": candidate["label"],
            "consistency": long["value"] if long else None,
            "robustness": held["value"] if held else None,
        }
    return {"run": run.pk, "name": run.name, "approaches": figures}
