"""What the evaluations app announces; apps to its right connect in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# A team's price table changed (kwargs: team). Every cost computed from it is now stale.
prices_changed = Signal()

# A benchmark run ended (finished, failed or cancelled), sent once its state has committed.
# kwargs: run (BenchmarkRun). A workload linked to the run re-assesses itself with the measured
# figures.
benchmark_finished = Signal()

# A fine-tuning job succeeded (kwargs: job). Its actual training cost and model are known.
finetune_succeeded = Signal()
