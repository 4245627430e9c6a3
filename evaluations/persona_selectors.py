"""Shared reads of persona specs, their versions and the attacks that mention them."""

from __future__ import annotations

from django.db.models import Max, QuerySet

from evaluations.models import BenchmarkRun, BenchmarkStatus
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
    run = (
        BenchmarkRun.objects.filter(
            workload_id=workload_id, status=BenchmarkStatus.FINISHED, persona__isnull=False
        )
        .order_by("-finished_at", "-id")
        .first()
    )
    if run is None:
        return None
    approaches = dict(run.candidates.values_list("label", "approach"))
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
