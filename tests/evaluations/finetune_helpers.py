"""Building blocks of the fine-tuning tests: a dataset with splits, a prompt, a provider."""

from __future__ import annotations

import time

from evaluations.models import FineTuneJob
from evaluations.services.datasets import dataset_create, dataset_items_add
from evaluations.services.providers import provider_create
from prompts.content import Content
from prompts.selectors import version_lookup

SYSTEM = (
    "You classify support tickets. Answer JSON with a category and a confidence. "
    "Categories: question, incident, billing, feature_request."
)
MODEL = "demo-prompted"
LABELS = ("question", "incident", "billing", "feature_request")


def ticket_prompt(make_prompt, team, slug="triage", system=SYSTEM, few_shot=()):
    content = Content(
        "chat",
        [
            {"role": "system", "content": system},
            {"role": "user", "content": "Ticket: {{ ticket }}"},
        ],
        "",
        MODEL,
        {},
        list(few_shot),
    )
    make_prompt(team, slug, content, labels={"production": 1})
    return version_lookup(team=team, slug=slug, label="production")


def ticket_dataset(team, *, train=12, validation=2, test=3, name="Tickets", extra=()):
    dataset = dataset_create(
        team=team,
        name=name,
        task_kind="classification",
        output_schema={"type": "object", "properties": {"category": {"enum": list(LABELS)}}},
    )
    items = []
    for split, count in (("train", train), ("validation", validation), ("test", test)):
        for i in range(count):
            label = LABELS[i % len(LABELS)]
            items.append({"input": {"ticket": f"{split} ticket {i} about {label}"},
                          "expected": label, "split": split})  # fmt: skip
    items.extend(extra)
    dataset_items_add(dataset=dataset, items=items)
    return dataset


def demo_provider(team, base_url, name="Demo"):
    return provider_create(team=team, name=name, base_url=base_url, is_simulated=True)


def wait_for(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def job_status(pk: int) -> str:
    return FineTuneJob.objects.values_list("status", flat=True).get(pk=pk)
