"""A fine-tuning job is a kind of evidence: a decision cites it by id or by its model, the
evidence shows its label and links to its page, and another team's job is not found."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from decisions.models import EVIDENCE_KINDS, EvidenceKind
from evaluations.finetune_models import FineTuneJob, FineTuneStatus
from tests.decisions.records_helpers import complete_data, create

pytestmark = pytest.mark.django_db


def job(team, **fields) -> FineTuneJob:
    return FineTuneJob.objects.create(
        team=team, dataset_name="Tickets", prompt_ref="triage v1", base_model="gpt-4o-mini",
        **fields,
    )  # fmt: skip


def test_a_decision_cites_a_fine_tune_by_id_and_links_to_its_page(team, user):
    succeeded = job(team, status=FineTuneStatus.SUCCEEDED,
                    fine_tuned_model="ft:gpt-4o-mini:acme:tickets:abc")  # fmt: skip
    decision = create(
        team, user, complete_data(evidence=[{"kind": "finetune", "id": succeeded.pk}])
    )
    (link,) = decision.evidence_links.all()
    assert link.kind == EvidenceKind.FINETUNE and link.target == succeeded
    assert link.label == (
        f"Fine-tune #{succeeded.pk} of gpt-4o-mini on Tickets "
        "(succeeded: ft:gpt-4o-mini:acme:tickets:abc)"
    )
    assert link.url == f"/t/{team.slug}/fine-tunes/{succeeded.pk}/"
    assert link.ref == {"fine_tuned_model": "ft:gpt-4o-mini:acme:tickets:abc"}


def test_an_exported_fine_tune_reference_resolves_by_its_model(team, user):
    target = job(team, status=FineTuneStatus.SUCCEEDED, fine_tuned_model="ft:gpt-4o-mini:a:b:c")
    ref = EVIDENCE_KINDS[EvidenceKind.FINETUNE].ref(target)
    decision = create(team, user, complete_data(evidence=[{"kind": "finetune", **ref}]))
    assert decision.evidence_links.get().target == target
    failed = job(team, status=FineTuneStatus.FAILED)
    ref = EVIDENCE_KINDS[EvidenceKind.FINETUNE].ref(failed)
    assert set(ref) == {"created_at"}
    other = create(team, user, complete_data(evidence=[{"kind": "finetune", **ref}]))
    assert other.evidence_links.get().target == failed


def test_another_teams_fine_tune_is_not_found(team, other_team, user):
    theirs = job(other_team)
    with pytest.raises((ValidationError, DjangoValidationError)) as caught:
        create(team, user, complete_data(evidence=[{"kind": "finetune", "id": theirs.pk}]))
    assert "No such finetune in this team." in str(caught.value)
