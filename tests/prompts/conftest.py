"""Prompt registry fixtures: templates with versions made through the services."""

from __future__ import annotations

import pytest

from prompts import services
from prompts.content import Content

MODEL = "gpt-4o-mini"


def chat_content(*contents: str, few_shot=(), config=None, model=MODEL) -> Content:
    """A chat prompt: the first text is the system message, the others user messages."""
    messages = [
        {"role": "system" if i == 0 else "user", "content": text} for i, text in enumerate(contents)
    ]
    return Content("chat", messages, "", model, config or {}, list(few_shot))


def text_content(text: str, model: str = MODEL) -> Content:
    return Content("text", [], text, model, {}, [])


@pytest.fixture
def make_prompt(user):
    """`make_prompt(team, "slug", content, content, …, labels={"production": 2})`."""

    def make(team, slug, *contents: Content, labels=None, protected=(), **fields):
        template = services.prompt_template_create(
            team=team,
            slug=slug,
            name=fields.pop("name", slug.title()),
            protected_labels=list(protected),
            actor=user,
            **fields,
        )
        for i, content in enumerate(contents, start=1):
            services.prompt_version_create(
                template=template, content=content, commit_message=f"v{i}", author=user
            )
        for label, number in (labels or {}).items():
            services.prompt_label_move(
                template=template, label=label, number=number, user=user, is_admin=True
            )
        return template

    return make


@pytest.fixture
def api(api_client_factory, team):
    return api_client_factory(team, "prompts:read", "prompts:write")


@pytest.fixture
def reader(api_client_factory, team):
    return api_client_factory(team, "prompts:read")
