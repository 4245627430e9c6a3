"""Registry invariants below the API: immutability, numbering under concurrency, the token
figure a linked workload will read."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from prompts import selectors, services
from prompts.models import PromptLabel, PromptVersion
from tests.prompts.helpers import chat_content, text_content


@pytest.mark.django_db
def test_versions_are_immutable(make_prompt, team):
    template = make_prompt(team, "cls", chat_content("a"))
    version = template.versions.get()
    version.commit_message = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        version.save()
    assert PromptVersion.objects.get().commit_message == "v1"


@pytest.mark.django_db
def test_latest_is_never_a_stored_label(make_prompt, team):
    template = make_prompt(team, "cls", chat_content("a"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptLabel.objects.create(
            team=team, template=template, label="latest", version=template.versions.get()
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_get_consecutive_numbers_and_identical_ones_collapse(make_prompt, team):
    template = make_prompt(team, "cls")
    contents = [chat_content(f"prompt {i}") for i in range(4)] + [chat_content("same")] * 4
    errors = []

    def save(content):
        try:
            services.prompt_version_create(template=template, content=content)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(content,)) for content in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(template.versions.values_list("number", flat=True))
    # Each "same" save after the first saw it as the latest, unless another content came between.
    assert numbers == list(range(1, len(numbers) + 1))
    assert 5 <= len(numbers) <= 8
    assert template.versions.filter(content_hash=chat_content("same").hash).exists()


@pytest.mark.django_db
def test_the_workload_figure_is_production_s_static_tokens_resolved_now(make_prompt, team, user):
    tone = make_prompt(
        team,
        "tone",
        text_content("Be kind."),
        text_content("Be kind. " * 50),
        labels={"production": 1},
    )
    cls = make_prompt(
        team,
        "cls",
        chat_content('Classify. {% include_prompt "tone" %}'),
        chat_content("Short."),
        labels={"production": 1},
    )
    first = selectors.label_static_tokens(template=cls)
    assert first == cls.versions.get(number=1).static_tokens
    services.prompt_label_move(template=tone, label="production", number=2, user=user)
    assert selectors.label_static_tokens(template=cls) > first + 100
    services.prompt_label_move(template=cls, label="production", number=2, user=user)
    assert selectors.label_static_tokens(template=cls) == cls.versions.get(number=2).static_tokens
    assert selectors.label_static_tokens(template=cls, label="staging") is None
