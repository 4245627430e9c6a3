"""The demo prompts: seed 000's TaskMaster persona and seed 001's ticket classifier."""

from __future__ import annotations

import pytest

from prompts import demo
from prompts.models import PromptLabelMove, PromptTemplate, PromptVersion

pytestmark = pytest.mark.django_db


def test_the_persona_has_two_versions_with_production_moved_to_v2(team, user):
    demo.seed(team, user)
    persona = PromptTemplate.objects.get(slug="taskmaster-persona")
    assert persona.versions.count() == 2 and persona.protected_labels == ["production"]
    assert persona.labels.get(label="production").version.number == 2
    moves = PromptLabelMove.objects.filter(template=persona).order_by("-id")
    assert [(m.from_version and m.from_version.number, m.to_version.number) for m in moves] == [
        (1, 2),
        (None, 1),
    ]
    v1, v2 = persona.versions.order_by("number")
    assert "You are TaskMaster, a productivity coach in AI form." in v1.messages[0]["content"]
    assert v1.static_tokens < v2.static_tokens
    assert 450 <= v2.static_tokens <= 550  # the workload's 500-token persona prompt
    assert v2.variables == ["message", "user_name"]
    assert {"type": "placeholder", "name": "history"} in v2.messages


def test_the_classifier_carries_its_few_shot_examples_and_is_warned(team, user):
    demo.seed(team, user)
    classifier = PromptTemplate.objects.get(slug="ticket-classifier")
    version = classifier.versions.get()
    assert len(version.few_shot) == 12
    assert version.config["response_format"] == {"type": "json_object"}
    assert 1_600 <= version.static_tokens <= 2_000  # the workload's ~1,800-token prompt
    assert version.warnings == [
        "prompt bloat: evaluate fine-tuning — 12 few-shot examples (more than 5)"
    ]


def test_seeding_twice_adds_nothing(team, user):
    demo.seed(team, user)
    counts = PromptVersion.objects.count(), PromptLabelMove.objects.count()
    demo.seed(team, user)
    assert (PromptVersion.objects.count(), PromptLabelMove.objects.count()) == counts


def test_the_demo_prompts_render_through_the_api(team, user, api_client_factory):
    demo.seed(team, user)
    api = api_client_factory(team, "prompts:read")
    persona = api.post(
        "/api/v1/prompts/taskmaster-persona/render",
        {
            "variables": {"message": "I shipped it", "user_name": "Sam"},
            "placeholders": {"history": []},
        },
        format="json",
    ).json()
    assert "The user's name is Sam" in persona["messages"][0]["content"]
    classified = api.post(
        "/api/v1/prompts/ticket-classifier/render",
        {"variables": {"ticket": "Refund me"}},
        format="json",
    ).json()
    assert classified["messages"][-1] == {"role": "user", "content": "Input: Refund me"}
    assert len(classified["messages"]) == 2 + 2 * 12
