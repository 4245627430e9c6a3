"""A benchmark scenario for tests: a demo-endpoint provider, a classification prompt and a
dataset of support tickets whose text names their label."""

from __future__ import annotations

import time
from dataclasses import dataclass

from evaluations.models import BenchmarkRun, Dataset, Provider
from evaluations.services.benchmarks import CandidateSpec, benchmark_run_start
from evaluations.services.datasets import dataset_create, dataset_items_add
from evaluations.services.providers import provider_create
from prompts import services as prompt_services
from tests.prompts.helpers import chat_content

LABELS = ("billing", "incident", "question", "feature_request")
SYSTEM = (
    "You triage support tickets. Classify the ticket into one of: billing, incident, question, "
    "feature_request. Answer in JSON with a category field."
)


@dataclass
class Scenario:
    provider: Provider
    dataset: Dataset
    prompt_slug: str

    def candidates(self, *models: str, label: str | None = None) -> list[CandidateSpec]:
        return [
            CandidateSpec(
                label=f"{model}", approach="fine-tune" if "fine" in model else "prompt",
                provider=self.provider, model=model, prompt_slug=self.prompt_slug,
                prompt_label=label, prompt_number=None if label else 1,
            )
            for model in models
        ]  # fmt: skip


def scenario(team, user, base_url: str, *, items: int = 20, name: str = "Tickets") -> Scenario:
    provider = provider_create(team=team, name=f"Demo {name}", base_url=base_url,
                               is_simulated=True)  # fmt: skip
    template = prompt_services.prompt_template_create(
        team=team, slug=f"triage-{name.lower()}", name="Triage", actor=user
    )
    prompt_services.prompt_version_create(
        template=template, content=chat_content(SYSTEM, "{{ ticket }}", model="demo-prompted"),
        commit_message="v1", author=user,
    )  # fmt: skip
    dataset = dataset_create(team=team, name=name, task_kind="classification")
    dataset_items_add(
        dataset=dataset,
        items=[
            {
                "input": {"ticket": f"Ticket {i}: this is about {LABELS[i % 4].replace('_', ' ')}"},
                "expected": LABELS[i % 4], "split": "test", "tags": [], "conversation": None,
            }
            for i in range(items)
        ],
    )  # fmt: skip
    return Scenario(provider, dataset, template.slug)


SCORERS = [{"name": "accuracy"}, {"name": "macro_f1"}, {"name": "json_valid"}]


def start(team, sc: Scenario, *models: str, **options) -> BenchmarkRun:
    options.setdefault("scorers", SCORERS)
    options.setdefault("split", "test")
    return benchmark_run_start(
        team=team, name="run", dataset=sc.dataset,
        candidates=sc.candidates(*(models or ("demo-prompted", "demo-fine-tuned"))), **options,
    )  # fmt: skip


def wait_for(run: BenchmarkRun, condition, *, timeout: float = 60.0, worker=None) -> BenchmarkRun:
    deadline = time.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if condition(run):
            return run
        if time.monotonic() > deadline:
            log = "".join(worker.output[-40:]) if worker is not None else ""
            raise AssertionError(f"run {run.pk} still {run.status} {run.progress}\n{log}")
        time.sleep(0.1)
