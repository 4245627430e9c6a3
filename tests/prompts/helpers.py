"""Prompt contents for tests."""

from __future__ import annotations

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
