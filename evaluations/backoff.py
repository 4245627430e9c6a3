"""The polling schedule of fine-tuning jobs: exponential backoff with jitter, bounded.

Pure code: `delay(attempt)` is how long to wait before poll number `attempt` (0-based). The wait
doubles from `base` up to `cap`; "equal jitter" keeps at least half of it and randomises the
rest, so that many jobs started together do not poll in step, yet a poll is never much sooner
than the schedule says. Polling stops after `max_attempts` polls.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    base: float = 5.0  # seconds before the first poll
    factor: float = 2.0
    cap: float = 300.0  # the longest wait between two polls
    max_attempts: int = 500  # then the job is given up (≈ 40 hours at the cap)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base or self.max_attempts < 1:
            raise ValueError("A schedule needs base > 0, factor >= 1, cap >= base, attempts >= 1")

    def ceiling(self, attempt: int) -> float:
        """The wait before poll `attempt` without jitter."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        # min() before the power could overflow: factor**attempt grows without bound.
        steps = min(attempt, 64)
        return min(self.cap, self.base * self.factor**steps)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before poll `attempt`: in [ceiling / 2, ceiling]."""
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
