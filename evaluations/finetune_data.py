"""Fine-tuning data: chat-format JSONL, its validation and the training estimate (SPEC §7.4).

Pure code (no Django): the services turn dataset items and a rendered prompt into `Example`s,
this module checks them as the fine-tuning API will and says what training would cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import fnmatchcase

from prompts.tokens import count_message_tokens

ROLES = ("system", "user", "assistant")
# The fine-tuning API refuses a training file with fewer examples than this.
API_MIN_EXAMPLES = 10
# The seeds' guidance: 50-100 curated examples to start; 500+ for the flowchart's fine-tune branch.
START_MIN_EXAMPLES = 50
FLOWCHART_MIN_EXAMPLES = 500
MINIMAL_PROMPT_MAX_CHARS = 200

# Longest training example (tokens) per base model, most specific pattern first; unknown models
# get the smallest limit of the table, so an estimate never promises too much.
TRAINING_CONTEXT: tuple[tuple[str, int], ...] = (
    ("gpt-4o-mini*", 65_536),
    ("gpt-4o*", 65_536),
    ("gpt-4.1*", 65_536),
    ("gpt-3.5-turbo*", 16_385),
    ("demo-*", 16_385),
)
DEFAULT_TRAINING_CONTEXT = 16_385


def training_context(model: str) -> int:
    """The token limit of one training example for `model`."""
    return next(
        (limit for pattern, limit in TRAINING_CONTEXT if fnmatchcase(model, pattern)),
        DEFAULT_TRAINING_CONTEXT,
    )


@dataclass(frozen=True)
class Example:
    """One training example: the dataset item it came from and its chat messages."""

    position: int
    messages: list[dict[str, str]]
    build_error: str | None = None  # when the item could not become messages at all

    def jsonl_line(self) -> str:
        return json.dumps({"messages": self.messages}, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Problem:
    position: int | None  # the dataset item, or None for the whole file
    message: str

    def as_dict(self) -> dict:
        return {"position": self.position, "message": self.message}


@dataclass
class Report:
    """What validating one file found, and its token figures."""

    examples: int = 0
    tokens: int = 0  # billed tokens of one pass over the file
    max_example_tokens: int = 0
    context_limit: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "examples": self.examples,
            "tokens": self.tokens,
            "max_example_tokens": self.max_example_tokens,
            "context_limit": self.context_limit,
            "errors": [problem.as_dict() for problem in self.errors],
            "warnings": list(self.warnings),
        }


def jsonl(examples: Iterable[Example]) -> str:
    return "".join(example.jsonl_line() + "\n" for example in examples)


def minimal_prompt(system: str) -> str:
    """The first sentence of a system prompt: the task statement a fine-tuned model still needs
    (the format, examples and rules are what training teaches)."""
    text = " ".join(system.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    if len(sentence) > MINIMAL_PROMPT_MAX_CHARS:
        sentence = sentence[: MINIMAL_PROMPT_MAX_CHARS - 1].rstrip() + "…"
    return sentence


def assistant_content(expected: object, *, label_field: str | None) -> str:
    """The assistant turn for an expected output: text stays text, a bare label becomes
    `{label_field: label}` when the task answers JSON, any other value compact JSON."""
    if isinstance(expected, str):
        if label_field:
            return json.dumps({label_field: expected}, ensure_ascii=False)
        return expected
    return json.dumps(expected, ensure_ascii=False, separators=(",", ":"))


def _example_problems(example: Example) -> list[str]:
    if example.build_error:
        return [example.build_error]
    problems = []
    for index, message in enumerate(example.messages, start=1):
        role = message.get("role")
        if role not in ROLES:
            problems.append(f"message {index}: role {role!r} is not one of {', '.join(ROLES)}")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            problems.append(f"message {index} ({role}): empty content")
    roles = [message.get("role") for message in example.messages]
    if "assistant" not in roles:
        problems.append("no assistant message: there is nothing to learn")
    elif roles[-1] != "assistant":
        problems.append("the last message must be the assistant's")
    if "user" not in roles:
        problems.append("no user message")
    return problems


def validate(
    examples: Sequence[Example], *, model: str, min_examples: int = API_MIN_EXAMPLES
) -> Report:
    """Check examples as the fine-tuning API does (roles, empty content, one example within the
    model's training context) and count their tokens as it bills them."""
    limit = training_context(model)
    report = Report(examples=len(examples), context_limit=limit)
    for example in examples:
        problems = _example_problems(example)
        if not example.build_error:
            tokens = count_message_tokens(example.messages, model)
            report.tokens += tokens
            report.max_example_tokens = max(report.max_example_tokens, tokens)
            if tokens > limit:
                problems.append(
                    f"{tokens:,} tokens: more than the {limit:,} of one {model} training example"
                )
        report.errors.extend(Problem(example.position, problem) for problem in problems)
    if len(examples) < min_examples:
        report.errors.append(
            Problem(
                None,
                f"{len(examples)} example{'' if len(examples) == 1 else 's'}: the fine-tuning "
                f"API needs at least {min_examples}",
            )
        )
    return report


def guidance(train_examples: int) -> list[str]:
    """The seeds' advice on how many examples a fine-tune needs, for this many."""
    notes = []
    if train_examples < START_MIN_EXAMPLES:
        notes.append(
            f"{train_examples} training examples: start with 50–100 curated, representative "
            "examples; fewer rarely teach a format reliably."
        )
    if train_examples < FLOWCHART_MIN_EXAMPLES:
        notes.append(
            f"The decision flowchart takes the fine-tune branch with 500+ labeled examples "
            f"({train_examples} here): below that, prefer prompt engineering or few-shot."
        )
    return notes


@dataclass(frozen=True)
class Estimate:
    tokens_per_epoch: int
    epochs: int
    training_tokens: int
    price_per_1m: Decimal | None  # USD per 1M training tokens; None when the table has none
    cost: Decimal | None
    price_source: str


def estimate(
    *, tokens_per_epoch: int, epochs: int, price_per_1m: Decimal | None, price_source: str
) -> Estimate:
    """Training tokens (the file's tokens × epochs, as the API bills) and their cost."""
    training_tokens = tokens_per_epoch * epochs
    return Estimate(
        tokens_per_epoch, epochs, training_tokens, price_per_1m,
        training_cost(training_tokens, price_per_1m), price_source,
    )  # fmt: skip


def training_cost(trained_tokens: int, price_per_1m: Decimal | None) -> Decimal | None:
    if price_per_1m is None:
        return None
    return (Decimal(trained_tokens) * price_per_1m / Decimal(1_000_000)).quantize(
        Decimal("0.000001")
    )


def parse_messages(messages: object) -> list[dict[str, str]] | None:
    """A conversation as stored (a list of {role, content}), or None if it is not one."""
    if not isinstance(messages, list):
        return None
    out = []
    for message in messages:
        if not isinstance(message, Mapping):
            return None
        out.append({"role": str(message.get("role", "")), "content": message.get("content")})
    return out
