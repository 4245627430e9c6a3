"""A prompt version's content: its hash, references, token economics and rendering (pure).

Content is what affects a model's output: `kind` (`chat` or `text`), the ordered messages (each
`{role, content}` with a template as content, or a placeholder `{type: "placeholder", name}` that
takes a list of messages at render time) or one text, the model, its `config` (temperature,
max_tokens, response_format … and any other keys) and the few-shot examples
(`[{input, output}]`). In a chat prompt the examples become user/assistant turns after the
leading system messages, unless a message uses `few_shot` itself; a text prompt places them
where it loops over `few_shot`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prompts import rendering, sandbox, tokens
from prompts.checking import Reference, TemplateInvalid
from prompts.rendering import Analysis, Inlined, RenderFailure

KINDS = ("chat", "text")
ROLES = ("system", "developer", "user", "assistant")
LEADING_ROLES = ("system", "developer")
# The seeds' pitfall "catastrophic prompt bloat": past these, evaluate fine-tuning.
BLOAT_STATIC_TOKENS = 2_000
BLOAT_FEW_SHOT = 5
MAX_INCLUDE_DEPTH = 8


@dataclass(frozen=True)
class Content:
    kind: str
    messages: Sequence[Mapping[str, Any]]
    text: str
    model: str
    config: Mapping[str, Any]
    few_shot: Sequence[Mapping[str, str]]

    def canonical(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "messages": list(self.messages) if self.kind == "chat" else [],
            "text": self.text if self.kind == "text" else "",
            "model": self.model,
            "config": dict(self.config),
            "few_shot": list(self.few_shot),
        }

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of everything that affects the output."""
        return hashlib.sha256(canonical_json(self.canonical())).hexdigest()

    def sources(self) -> list[tuple[str, str]]:
        """(where, template source) of every template, e.g. ("messages.2.content", "…")."""
        if self.kind == "text":
            return [("text", self.text)]
        return [
            (f"messages.{i}.content", message["content"])
            for i, message in enumerate(self.messages)
            if not is_placeholder(message)
        ]

    def placeholders(self) -> list[str]:
        return (
            [m["name"] for m in self.messages if is_placeholder(m)] if self.kind == "chat" else []
        )


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def is_placeholder(message: Mapping[str, Any]) -> bool:
    return message.get("type") == "placeholder"


class ContentInvalid(Exception):
    """Problems with their field paths: [(field, message)]."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors


def analyze(content: Content) -> list[Analysis]:
    """Check every template of `content`; raises ContentInvalid naming each field."""
    analyses, errors = [], []
    for where, source in content.sources():
        try:
            analyses.append(rendering.analyze(source))
        except TemplateInvalid as exc:
            errors += [(where, str(problem)) for problem in exc.problems]
    if errors:
        raise ContentInvalid(errors)
    if content.kind == "text" and content.few_shot and not analyses[0].uses_few_shot:
        errors.append(
            ("few_shot", "a text prompt shows its examples where it loops over few_shot, e.g. "
             "{% for ex in few_shot %}Q: {{ ex.input }} A: {{ ex.output }}{% endfor %}")
        )  # fmt: skip
    if errors:
        raise ContentInvalid(errors)
    return analyses


# References -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a reference resolved to: a version of a text prompt."""

    slug: str
    version: int
    hash: str
    kind: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.slug} v{self.version}"


Fetch = Callable[[set[Reference]], Mapping[Reference, Target]]


@dataclass(frozen=True)
class Resolution:
    inlined: list[Inlined]  # one per template source, in order
    targets: dict[Reference, Target]  # every reference reached, transitively

    def record(self) -> list[dict[str, Any]]:
        """The resolved versions, as stored with a version and returned with a render."""
        return [
            {"reference": str(ref), "slug": t.slug, "version": t.version, "hash": t.hash}
            for ref, t in sorted(self.targets.items(), key=lambda item: str(item[0]))
        ]


def resolve(slug: str, content: Content, analyses: list[Analysis], fetch: Fetch) -> Resolution:
    """Resolve every `include_prompt` of `content` (a version of template `slug`), level by
    level (`fetch` is called once per level), refusing unknown targets, chat targets, cycles
    and chains deeper than MAX_INCLUDE_DEPTH; raises ContentInvalid."""
    targets: dict[Reference, Target] = {}
    where = {}
    for (place, _), analysis in zip(content.sources(), analyses, strict=True):
        for ref in analysis.references:
            where.setdefault(ref, place)
    level = set(where)
    depth = 0
    while level:
        depth += 1
        if depth > MAX_INCLUDE_DEPTH:
            raise ContentInvalid([("references", f"prompt references nest deeper than "
                                   f"{MAX_INCLUDE_DEPTH} levels")])  # fmt: skip
        found = fetch(level)
        errors = [(ref, _missing(ref)) for ref in level if ref not in found]
        errors += [
            (
                ref,
                f"include_prompt {ref} is {target.name}, a chat prompt: only text "
                "prompts can be included",
            )  # fmt: skip
            for ref, target in found.items()
            if target.kind != "text"
        ]
        if errors:
            raise ContentInvalid(
                [
                    (where.get(ref, "references"), message)
                    for ref, message in sorted(errors, key=lambda e: e[1])
                ]
            )
        targets.update(found)
        level = {
            child
            for target in found.values()
            for child in _analysis_of(target).references
            if child not in targets
        }
    builder = _Builder(targets)
    inlined = [
        rendering.inline(
            source,
            {ref: (targets[ref].name, builder.build(ref, (slug,))) for ref in analysis.references},
        )  # fmt: skip
        for (_, source), analysis in zip(content.sources(), analyses, strict=True)
    ]
    for text in inlined:
        if len(text.text) > sandbox.MAX_OUTPUT_CHARS:
            raise ContentInvalid(
                [
                    (
                        "references",
                        "with its included prompts a template is "
                        f"longer than {sandbox.MAX_OUTPUT_CHARS:,} characters",
                    )
                ]
            )
    return Resolution(inlined, targets)


def _missing(ref: Reference) -> str:
    if ref.version is not None:
        return (
            f"include_prompt {ref}: the team has no prompt '{ref.slug}' with version {ref.version}"
        )
    return f"include_prompt {ref}: the team has no prompt '{ref.slug}' with a '{ref.label}' label"


def _analysis_of(target: Target) -> Analysis:
    try:
        return rendering.analyze(target.text)
    except TemplateInvalid as exc:
        raise ContentInvalid([("references", f"{target.name}: {exc}")]) from None


class _Builder:
    """Inline references bottom-up; each target once, cycles refused whatever the path."""

    def __init__(self, targets: Mapping[Reference, Target]) -> None:
        self.targets = targets
        self.done: dict[Reference, tuple[Inlined, frozenset[str]]] = {}

    def build(self, ref: Reference, path: tuple[str, ...]) -> Inlined:
        return self._build(ref, path)[0]

    def _build(self, ref: Reference, path: tuple[str, ...]) -> tuple[Inlined, frozenset[str]]:
        target = self.targets[ref]
        if target.slug in path:
            cycle = " → ".join([*path[path.index(target.slug) :], target.slug])
            raise ContentInvalid([("references", f"prompt references form a cycle: {cycle}")])
        if ref in self.done:
            inlined, slugs = self.done[ref]
            loop = slugs & set(path)
            if loop:
                raise ContentInvalid([("references", "prompt references form a cycle through "
                                       f"{', '.join(sorted(loop))}")])  # fmt: skip
            return inlined, slugs
        children, slugs = {}, {target.slug}
        for child in _analysis_of(target).references:
            inlined, child_slugs = self._build(child, (*path, target.slug))
            children[child] = (self.targets[child].name, inlined)
            slugs |= child_slugs
        result = (rendering.inline(target.text, children), frozenset(slugs))
        self.done[ref] = result
        return result


# Token economics --------------------------------------------------------------------------------


def static_tokens(content: Content, resolution: Resolution) -> int:
    """Tokens of the static part (system + few-shot + included prompts), in the model's
    encoding: what every request pays before its variables (see rendering.static_text)."""
    analyses = [rendering.analyze_inlined(text) for text in resolution.inlined]
    examples_inline = any(a.uses_few_shot for a in analyses)
    if content.kind == "text":
        total = tokens.count_tokens(analyses[0].static_text, content.model)
    else:
        statics = iter(analyses)
        messages = [
            m if is_placeholder(m) else {"role": m["role"], "content": next(statics).static_text}
            for m in content.messages
        ]
        messages = [m for m in messages if not is_placeholder(m)]
        if not examples_inline:
            messages = _with_examples(messages, content.few_shot)
        total = tokens.count_message_tokens(messages, content.model)
    if examples_inline:
        total += sum(
            tokens.count_tokens(example["input"], content.model)
            + tokens.count_tokens(example["output"], content.model)
            for example in content.few_shot
        )
    return total


def warnings(*, static_tokens: int, few_shot: int) -> list[str]:
    found = []
    if static_tokens > BLOAT_STATIC_TOKENS:
        found.append(f"prompt bloat: evaluate fine-tuning — the static part is "
                     f"{static_tokens:,} tokens (more than {BLOAT_STATIC_TOKENS:,})")  # fmt: skip
    if few_shot > BLOAT_FEW_SHOT:
        found.append(f"prompt bloat: evaluate fine-tuning — {few_shot} few-shot examples "
                     f"(more than {BLOAT_FEW_SHOT})")  # fmt: skip
    return found


def _with_examples(messages: list[dict], few_shot: Iterable[Mapping[str, str]]) -> list[dict]:
    turns = [
        turn
        for example in few_shot
        for turn in (
            {"role": "user", "content": example["input"]},
            {"role": "assistant", "content": example["output"]},
        )
    ]
    at = 0
    while at < len(messages) and messages[at]["role"] in LEADING_ROLES:
        at += 1
    return [*messages[:at], *turns, *messages[at:]]


# Rendering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    messages: list[dict[str, str]] | None
    text: str | None
    unused_variables: list[str]
    unused_placeholders: list[str]


class RenderErrors(Exception):
    def __init__(self, errors: list[RenderFailure]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def render(
    content: Content,
    resolution: Resolution,
    *,
    variables: Mapping[str, Any],
    placeholders: Mapping[str, Sequence[Mapping[str, str]]],
    budget: sandbox.Budget | None = None,
) -> Rendered:
    """Render `content` with its references resolved; raises RenderErrors, each naming the
    variable or placeholder to fix (every missing one at once when they can be known ahead)."""
    budget = budget or sandbox.Budget()
    analyses = [rendering.analyze_inlined(text) for text in resolution.inlined]
    wheres = [where for where, _ in content.sources()]
    _check_inputs(content, analyses, wheres, variables, placeholders)
    context = {**variables, "few_shot": [dict(example) for example in content.few_shot]}
    outputs = iter(
        rendering.render(text, context, budget=budget, where=where)
        for text, where in zip(resolution.inlined, wheres, strict=True)
    )
    declared = {name for analysis in analyses for name in analysis.variables}
    unused = sorted(set(variables) - declared)
    unused_placeholders = sorted(set(placeholders) - set(content.placeholders()))
    try:
        if content.kind == "text":
            return Rendered(None, next(outputs), unused, unused_placeholders)
        messages: list[dict[str, str]] = []
        for message in content.messages:
            if is_placeholder(message):
                for turn in placeholders[message["name"]]:
                    budget.emit(len(turn["content"]))
                    messages.append({"role": turn["role"], "content": turn["content"]})
            else:
                messages.append({"role": message["role"], "content": next(outputs)})
    except RenderFailure as exc:
        raise RenderErrors([exc]) from None
    except sandbox.RenderLimit as exc:
        raise RenderErrors([RenderFailure("placeholders", str(exc))]) from None
    if not any(a.uses_few_shot for a in analyses):
        messages = _with_examples(messages, content.few_shot)
    return Rendered(messages, None, unused, unused_placeholders)


def _check_inputs(content, analyses, wheres, variables, placeholders) -> None:
    errors = []
    if "few_shot" in variables:
        errors.append(RenderFailure("variables.few_shot", "few_shot is the version's own "
                                    "examples: it cannot be given"))  # fmt: skip
    seen: set[str] = set()
    for analysis, where in zip(analyses, wheres, strict=True):
        for name in sorted(analysis.required - set(variables) - seen):
            seen.add(name)
            lines = [line for line, names in analysis.names_by_line.items() if name in names]
            at = f", line {min(lines)}" if lines else ""
            errors.append(RenderFailure(f"variables.{name}", f"missing: {where}{at} uses "
                                        f"'{name}'"))  # fmt: skip
    for name in content.placeholders():
        if name not in placeholders:
            errors.append(
                RenderFailure(
                    f"placeholders.{name}",
                    f"missing: the prompt has a "
                    f"placeholder '{name}'; give a list of messages (it may be empty)",
                )
            )
    if errors:
        raise RenderErrors(errors)
