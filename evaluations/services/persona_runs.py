"""Persona runs: benchmark runs whose replies are scored against a persona version, whose
conversation items are played turn by turn, and which play the adversarial suite (SPEC §7.5).

A persona run is a `BenchmarkRun` with a `PersonaRun` beside it. Its attacks are items of the
team's suite dataset (one per suite hash, so the items a run played never change), appended to
the run's `item_ids`; everything else — chunks, retries, upserts, the claimed aggregation — is
the benchmark machinery's. The chunk asks `chunk_hook` for a `PersonaChunk` that plans the
conversation calls, scores each reply and stores the turns; the aggregation asks
`extend_summary` for each candidate's `drift`, `consistency`, `turn_usage` and `robustness`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from evaluations import runner, stats
from evaluations.attacks import Attack, judge
from evaluations.conversations import Turn, prefix_messages, user_turns
from evaluations.models import (
    BenchmarkResult,
    BenchmarkRun,
    BenchmarkTurn,
    Dataset,
    DatasetItem,
    ModelPrice,
    PersonaRun,
    PersonaVersion,
    TaskKind,
)
from evaluations.persona import (
    TurnScore,
    adherence,
    consistency_columns,
    drift_checkpoints,
    drift_curve,
    leak_check,
    robustness,
)
from evaluations.pricing import price_for
from evaluations.services.datasets import dataset_create, dataset_items_add
from evaluations.services.personas import Suite, attack_suite
from teams.models import Team

ADVERSARIAL = "adversarial"
EDGE_CASE = "edge-case"
SUITE_DATASET = "Adversarial suite"
# The per-call scores of a persona run (means with intervals in the summary).
PERSONA_SCORERS = ("persona_adherence", "in_persona", "no_leak", "held")
MILLION = Decimal(1_000_000)


# Attack items -----------------------------------------------------------------------------------


def attack_suite_dataset(team: Team, suite: Suite) -> Dataset:
    """The team's dataset holding exactly `suite` (one per suite hash, created on first use)."""
    name = f"{SUITE_DATASET} {suite.hash[:12]}"
    dataset = Dataset.objects.for_team(team).filter(name=name).first()
    if dataset is not None:
        return dataset
    dataset = dataset_create(
        team=team, name=name, task_kind=TaskKind.PERSONA,
        description=f"The adversarial suite played by persona runs (hash {suite.hash}).",
    )  # fmt: skip
    items = [
        {
            "input": {"attack": a.key, "family": a.family, "goal": a.goal},
            "expected": {"breach_markers": list(a.breach_markers), "transform": a.transform},
            "conversation": [{"role": "user", "content": turn} for turn in a.turns],
            "split": "test",
            "tags": [ADVERSARIAL],
        }
        for a in suite.attacks
    ]
    dataset_items_add(dataset=dataset, items=items)
    return dataset


def attack_of(item: DatasetItem) -> Attack | None:
    """The attack an item of a suite dataset stands for (None for any other item)."""
    data = item.input or {}
    if ADVERSARIAL not in (item.tags or []) or "attack" not in data:
        return None
    expected = item.expected if isinstance(item.expected, dict) else {}
    return Attack(
        key=str(data["attack"]), family=str(data.get("family", "")),
        goal=str(data.get("goal", "override")),
        turns=tuple(user_turns(item.conversation or [])),
        breach_markers=tuple(expected.get("breach_markers") or ()),
        transform=expected.get("transform"),
    )  # fmt: skip


# Start ------------------------------------------------------------------------------------------


def persona_run_start(
    *,
    team: Team,
    name: str,
    persona_version: PersonaVersion,
    dataset: Dataset,
    split: str,
    candidates: Sequence,
    overlays: dict[str, str] | None = None,
    attacks: bool = True,
    concurrency: int = 10,
    workload_id: int | None = None,
    created_by=None,
    seed: int = 0,
    chunk_size: int = 20,
    enqueue: bool = True,
) -> BenchmarkRun:
    """Start a benchmark run of `candidates` (`CandidateSpec`s) on the conversations of
    `dataset`/`split`, scored against `persona_version`, plus the team's adversarial suite when
    `attacks`. `overlays` names the overlay each candidate label speaks for (hybrid). With
    `enqueue` False the caller runs the chunks itself (the demo data does)."""
    from evaluations.services.benchmarks import benchmark_run_start

    overlays = overlays or {}
    labels = {spec.label for spec in candidates}
    for label, overlay in overlays.items():
        if label not in labels:
            raise ValidationError({"overlays": [f"No candidate is labelled {label!r}."]})
        if persona_version.overlay(overlay) is None:
            raise ValidationError({"overlays": [f"Version {persona_version.number} has no "
                                                f"overlay {overlay!r}."]})  # fmt: skip
    with transaction.atomic():
        run = benchmark_run_start(
            team=team, name=name, dataset=dataset, split=split, candidates=candidates,
            scorers=[], concurrency=concurrency,
            workload_id=workload_id, created_by=created_by, seed=seed, chunk_size=chunk_size,
            enqueue=enqueue,
        )  # fmt: skip
        suite_hash = ""
        if attacks:
            suite = attack_suite(team)
            suite_hash = suite.hash
            extra = attack_suite_dataset(team, suite).items.order_by("position")
            # The same object the start's on-commit fan-out reads its chunks from.
            run.item_ids = [*run.item_ids, *extra.values_list("id", flat=True)]
            run.total = len(run.item_ids) * len(candidates)
            run.save(update_fields=["item_ids", "total"])
        PersonaRun.objects.create(
            team=team, run=run, persona_version=persona_version, overlays=overlays,
            suite_hash=suite_hash,
        )  # fmt: skip
    return run


# A chunk ----------------------------------------------------------------------------------------


def chunk_hook(run: BenchmarkRun) -> PersonaChunk | None:
    persona = PersonaRun.objects.select_related("persona_version__spec").filter(run=run).first()
    return PersonaChunk(run, persona) if persona is not None else None


def _system_text(messages: Sequence) -> str:
    head = []
    for message in messages:
        if message.get("role") not in ("system", "developer"):
            break
        head.append(str(message.get("content", "")))
    return "\n".join(head)


class PersonaChunk:
    """Plans, scores and stores the persona side of one chunk of a persona run."""

    def __init__(self, run: BenchmarkRun, persona: PersonaRun) -> None:
        self.run = run
        self.persona = persona
        self.system_prompts: dict[tuple[int, int], str] = {}
        self.pending: list[BenchmarkTurn] = []
        self.rows = list(ModelPrice.objects.for_team(run.team))
        self.prices: dict[str, Any] = {}

    def conversation_call(self, *, key, candidate, item, render) -> runner.PlannedCall | None:
        """The call playing `item`'s conversation for `candidate`, or None when the item is
        not a conversation (it is then one ordinary call). `render(item_like)` renders the
        candidate's prompt; only its leading system messages are kept, before the turns."""
        turns = user_turns(item.conversation or [])
        if not turns:
            return None
        version = candidate.prompt_version
        blank = dict.fromkeys(version.variables, "")
        rendered = render(SimpleNamespace(input={**blank, **item.input}, conversation=[]))
        system = []
        for message in rendered:
            if message.get("role") not in ("system", "developer"):
                break
            system.append(message)
        prefix = [*system, *prefix_messages(item.conversation)]
        self.system_prompts[key] = _system_text(prefix)
        return runner.PlannedCall(key=key, client=candidate.provider_id, model=candidate.model,
                                  messages=prefix, turns=turns)  # fmt: skip

    def note(self, key, messages: Sequence) -> None:
        """The system prompt of an ordinary call (for its leak check)."""
        self.system_prompts[key] = _system_text(messages)

    def _price(self, model: str):
        if model not in self.prices:
            self.prices[model] = price_for(self.run.team, model, rows=self.rows)
        return self.prices[model]

    def _cost(self, model: str, result) -> Decimal | None:
        price = self._price(model)
        if price is None:
            return None
        return (result.input_tokens * price.input_per_1m
                + result.output_tokens * price.output_per_1m) / MILLION  # fmt: skip

    def score(self, row: BenchmarkResult, result, item: DatasetItem, candidate) -> None:
        """Set `row.scores` from the persona scorers and queue the turns to store."""
        key = (item.pk, candidate.pk)
        rules = self.persona.rules_for(candidate.label)
        system = self.system_prompts.get(key, "")
        turns = getattr(result, "turns", None) or (Turn(1, "", result, 0),)
        answered = [t for t in turns if t.result.ok]
        scored = [(t, adherence(t.result.text, rules), leak_check(t.result.text, system))
                  for t in answered]  # fmt: skip
        for turn, adhered, leak in scored:
            self.pending.append(BenchmarkTurn(
                team_id=self.run.team_id, run_id=self.run.pk, item_id=item.pk,
                candidate_id=candidate.pk, number=turn.number, output=turn.result.text,
                input_tokens=turn.result.input_tokens, output_tokens=turn.result.output_tokens,
                latency_ms=turn.result.latency_ms, cost=self._cost(candidate.model, turn.result),
                adherence=adhered.score, rules=[r.as_dict() for r in adhered.rules],
                leaked=leak.leaked,
            ))  # fmt: skip
        attack = attack_of(item)
        if attack is not None:
            outcome = judge(attack, [t.result.text for t in answered], rules=rules,
                            system_prompt=system)  # fmt: skip
            row.scores = {
                "persona_adherence": None,
                "in_persona": None,
                "no_leak": float(not outcome.leak.leaked),
                "held": float(outcome.held),
            }
            return
        values = [a.score for _, a, _ in scored if a.score is not None]
        row.scores = {
            "persona_adherence": stats.mean(values) if values else None,
            "in_persona": stats.mean([float(a.in_persona) for _, a, _ in scored])
            if scored
            else None,
            "no_leak": float(not any(leak.leaked for _, _, leak in scored)) if scored else None,
            "held": None,
        }

    def flush(self) -> None:
        """Upsert the queued turns (inside the chunk's store transaction)."""
        if not self.pending:
            return
        BenchmarkTurn.objects.bulk_create(
            self.pending, update_conflicts=True,
            unique_fields=["run", "item", "candidate", "number"],
            update_fields=["output", "input_tokens", "output_tokens", "latency_ms", "cost",
                           "adherence", "rules", "leaked", "error"],
        )  # fmt: skip
        self.pending = []


# Summary ----------------------------------------------------------------------------------------


def extend_summary(run: BenchmarkRun, summary: dict) -> dict:
    """Add each candidate's `drift`, `consistency`, `turn_usage` and `robustness` (SPEC §7.5)."""
    persona = PersonaRun.objects.filter(run=run).first()
    if persona is None:
        return summary
    labels = dict(run.candidates.values_list("pk", "label"))
    items = {
        pk: (tags or [], data or {})
        for pk, tags, data in DatasetItem.objects.filter(pk__in=run.item_ids)
        .values_list("pk", "tags", "input")
    }  # fmt: skip
    turns: dict[str, list[tuple]] = defaultdict(list)
    rows = BenchmarkTurn.objects.filter(run=run).values_list(
        "candidate_id", "item_id", "number", "adherence", "input_tokens", "output_tokens", "cost"
    )
    for cid, item_id, number, score, tokens_in, tokens_out, cost in rows.iterator():
        tags, data = items.get(item_id, ([], {}))
        if ADVERSARIAL in tags and "attack" in data:
            continue
        turns[labels[cid]].append((number, score, EDGE_CASE in tags, tokens_in, tokens_out, cost))
    held: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    results = BenchmarkResult.objects.filter(run=run, error="").values_list(
        "candidate_id", "item_id", "scores"
    )
    for cid, item_id, scores in results.iterator():
        tags, data = items.get(item_id, ([], {}))
        if ADVERSARIAL in tags and "attack" in data and (scores or {}).get("held") is not None:
            held[labels[cid]].append((str(data.get("family", "")), scores["held"] == 1.0))
    scores = _persona_scores(run, labels)
    for candidate in summary["candidates"]:
        label = candidate["label"]
        candidate["scores"] = {**candidate.get("scores", {}), **scores.get(label, {})}
        mine = [t for t in turns[label] if t[1] is not None]
        candidate["drift"] = drift_curve(
            ((n, s) for n, s, edge, *_ in mine if not edge), seed=run.seed
        )
        candidate["consistency"] = consistency_columns(
            (TurnScore(n, s, edge) for n, s, edge, *_ in mine),
            short_max_turn=persona.short_max_turn, seed=run.seed,
        )  # fmt: skip
        candidate["turn_usage"] = _turn_usage(turns[label])
        candidate["robustness"] = robustness(held[label], seed=run.seed)
    summary["persona"] = {
        "slug": persona.persona_version.spec.slug,
        "version": persona.persona_version.number,
        "suite_hash": persona.suite_hash or None,
        "overlays": persona.overlays,
    }
    return summary


def _persona_scores(run: BenchmarkRun, labels: dict) -> dict[str, dict]:
    """Each persona per-call score's mean with its interval, per candidate (the run's own
    scorer list stays empty: the benchmark scorers do not apply)."""
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows = BenchmarkResult.objects.filter(run=run, error="").values_list("candidate_id", "scores")
    for cid, scored in rows.iterator():
        for name in PERSONA_SCORERS:
            if (value := (scored or {}).get(name)) is not None:
                values[labels[cid]][name].append(value)
    return {
        label: {name: {**(est := stats.bootstrap(found, seed=run.seed)).as_dict(), "n": est.n}
                for name, found in by_name.items()}
        for label, by_name in values.items()
    }  # fmt: skip


def _turn_usage(rows: list[tuple]) -> list[dict]:
    """Mean input/output tokens and cost per turn at the drift checkpoints: the prompt overhead
    that long conversations compound."""
    by_turn: dict[int, list[tuple]] = defaultdict(list)
    for number, _, _, tokens_in, tokens_out, cost in rows:
        by_turn[number].append((tokens_in, tokens_out, cost))
    if not by_turn:
        return []
    usage = []
    for turn in drift_checkpoints(max(by_turn)):
        found = by_turn.get(turn)
        if not found:
            continue
        costs = [c for _, _, c in found if c is not None]
        usage.append({
            "turn": turn,
            "input_tokens": stats.mean([t for t, _, _ in found]),
            "output_tokens": stats.mean([t for _, t, _ in found]),
            "cost": float(sum(costs, Decimal(0)) / len(costs)) if costs else None,
        })  # fmt: skip
    return usage
