"""The prompt registry's promotion gate, decided by benchmark runs (registered with
`prompts.gate` in EvaluationsConfig.ready).

A version may replace production when the newest finished run that compared both versions (a
candidate on each) scored the gate's metric (default accuracy) for the new version no lower
than production's minus the margin. No such run: the promotion is refused, and the reason says
which run would do.
"""

from __future__ import annotations

from evaluations.models import BenchmarkRun, BenchmarkStatus
from prompts.gate import Verdict

DEFAULT_METRIC = "accuracy"


def _score(run: BenchmarkRun, label: str, metric: str) -> float | None:
    for candidate in run.summary.get("candidates", []):
        if candidate["label"] == label:
            estimate = (candidate.get("scores") or {}).get(metric)
            return None if estimate is None else estimate["value"]
    return None


def check(template, version, current) -> Verdict:
    metric = template.gate_metric or DEFAULT_METRIC
    runs = (
        BenchmarkRun.objects.filter(team_id=template.team_id, status=BenchmarkStatus.FINISHED)
        .filter(candidates__prompt_version=version)
        .filter(candidates__prompt_version=current)
        .order_by("-finished_at", "-pk")
        .prefetch_related("candidates")
        .distinct()
    )
    for run in runs[:20]:
        labels = {c.prompt_version_id: c.label for c in run.candidates.all()}
        new, old = _score(run, labels[version.pk], metric), _score(run, labels[current.pk], metric)
        if new is None or old is None:
            continue  # this run did not score the metric
        words = f"benchmark #{run.pk}: {metric} {new:.3f} for v{version.number} vs {old:.3f} " \
                f"for v{current.number}"  # fmt: skip
        if new >= old - template.gate_margin:
            return Verdict(True, f"{words}, within the margin of {template.gate_margin:g}")
        return Verdict(False, f"{words}, worse by more than the margin of "
                              f"{template.gate_margin:g}")  # fmt: skip
    return Verdict(
        False,
        f"no finished benchmark run compares v{version.number} with production "
        f"v{current.number} on {metric}; run one with both versions as candidates.",
    )
