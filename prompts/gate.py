"""The promotion gate of `production`: who can say whether a version may be promoted.

The prompts app sits left of `evaluations` and never imports it. The app that runs benchmarks
registers a checker in its `AppConfig.ready()`; `prompt_label_move` asks it before moving a
gated template's `production` label. Without a registered checker the gate is recorded but not
enforced (and the template's page says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # what the evidence says, either way (shown to the user, kept on the move)


# (template, version to promote, version production points at now) -> Verdict
Checker = Callable[[Any, Any, Any], Verdict]

_checkers: list[Checker] = []


def register(checker: Checker) -> None:
    if checker not in _checkers:
        _checkers.append(checker)


def unregister(checker: Checker) -> None:
    if checker in _checkers:
        _checkers.remove(checker)


def is_enforced() -> bool:
    return bool(_checkers)


def check(template, version, current) -> Verdict | None:
    """The first refusal of the registered checkers, else the last verdict; None when none is
    registered."""
    verdict = None
    for checker in _checkers:
        verdict = checker(template, version, current)
        if not verdict.allowed:
            return verdict
    return verdict
