"""Writes to datasets (SPEC §7.2): create, import items all-or-nothing, split, delete.

Items reach `dataset_items_add` validated by the item serializer (`evaluations.api.datasets`);
this module adds positions and hashes and stores them in one transaction, so an import is
stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError

from evaluations.dataset_files import assign_splits, content_hash, text_hash
from evaluations.models import Dataset, DatasetItem, Split

UPDATE_BATCH = 2000


def dataset_create(
    *,
    team,
    name: str,
    task_kind: str,
    output_schema: Any = None,
    label_field: str = "category",
    description: str = "",
    created_by=None,
) -> Dataset:
    """Add an empty dataset; its name is unique in the team."""
    if Dataset.objects.for_team(team).filter(name=name).exists():
        raise ValidationError({"name": [f"A dataset named {name} already exists in this team."]})
    dataset = Dataset(team=team, name=name, task_kind=task_kind, output_schema=output_schema,
                      label_field=label_field, description=description,
                      created_by=created_by)  # fmt: skip
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError:  # a concurrent create of the same name won the race
        raise ValidationError({"name": [f"A dataset named {name} already exists."]}) from None
    return dataset


def _tag_text(tags: Sequence[str]) -> str:
    return f",{','.join(tags)}," if tags else ""


def dataset_items_add(*, dataset: Dataset, items: Sequence[Mapping[str, Any]]) -> int:
    """Append validated items (`input`, `expected`, `split`, `tags`, `conversation`) after the
    dataset's last one; returns how many were stored."""
    with transaction.atomic():
        # The dataset row is the lock that keeps two imports from taking the same positions.
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        last = dataset.items.aggregate(last=Max("position"))["last"] or 0
        rows = []
        for offset, item in enumerate(items, start=1):
            variables, conversation = item.get("input") or {}, item.get("conversation")
            tags = list(item.get("tags") or [])
            rows.append(
                DatasetItem(
                    team_id=dataset.team_id,
                    dataset=dataset,
                    position=last + offset,
                    input=variables,
                    expected=item.get("expected"),
                    conversation=conversation or None,
                    split=item.get("split") or "",
                    tags=tags,
                    tag_text=_tag_text(tags),
                    content_hash=content_hash(variables, conversation),
                    text_hash=text_hash(variables, conversation),
                )
            )
        DatasetItem.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def dataset_split(*, dataset: Dataset, ratios: Mapping[str, Decimal], seed: int) -> dict[str, int]:
    """Assign every item a split by `ratios` (shares summing to 1), deterministically from
    `seed` and the items' text; duplicates always land together. Returns items per split."""
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        rows = list(dataset.items.order_by("position").values_list("pk", "text_hash"))
        splits = assign_splits([key for _, key in rows], ratios, seed)
        chosen: dict[str, list[int]] = {split: [] for split in Split.values}
        for (pk, _), split in zip(rows, splits, strict=True):
            chosen[split].append(pk)
        for split, ids in chosen.items():
            for start in range(0, len(ids), UPDATE_BATCH):
                DatasetItem.objects.filter(pk__in=ids[start : start + UPDATE_BATCH]).update(
                    split=split
                )
    return {split: len(ids) for split, ids in chosen.items()}


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset and its items; refused (ValidationError) while benchmark runs use
    it: their per-call rows point at its items."""
    try:
        with transaction.atomic():
            dataset.delete()
    except ProtectedError:
        raise ValidationError(
            f"{dataset.name} is used by benchmark runs: it stays while they do."
        ) from None
