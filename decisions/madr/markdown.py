"""The CommonMark layer of reading ADR files: YAML front matter (python-frontmatter with a safe
loader), the blocks of the body (markdown-it-py's syntax tree) with the source lines each one
spans, list items, and the plain text and links of inline markdown. Pure Python (no Django).

What the reader keeps is cut from the source by line ranges, so a field keeps its markdown as
written (code fences, tables, its own headings); only comments are dropped.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

MAX_FRONT_MATTER = 64 * 1024  # characters
MAX_FRONT_MATTER_NODES = 5_000
_MD = MarkdownIt("commonmark")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EXTRAS_COMMENT = re.compile(r"^\s*<!--\s*crossover\s*\n(.*)-->\s*$", re.S)


class MadrError(ValueError):
    """A file that cannot be read as a decision record; the message says why."""


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, with dates kept as written (the reader checks them, rather than a
    `date: 2024-02-30` failing the whole file) and no aliases (a few lines of anchors can
    expand to gigabytes once walked)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise MadrError("front matter uses a YAML alias (*name): write the value out")
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, where: str) -> dict:
    """A YAML mapping (keys lower-cased), or MadrError saying what is wrong with it."""
    if len(text) > MAX_FRONT_MATTER:
        raise MadrError(f"{where} is longer than {MAX_FRONT_MATTER // 1024} KiB")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except MadrError:
        raise
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "problem", None) or exc.__class__.__name__
        raise MadrError(f"{where} is not valid YAML ({reason})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MadrError(f"{where} must be a YAML mapping (key: value lines)")
    _check_size(data, where)
    return {str(key).lower(): value for key, value in data.items()}


def _check_size(data: object, where: str) -> None:
    stack, seen = [(data, 0)], 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > 20 or seen > MAX_FRONT_MATTER_NODES:
            raise MadrError(f"{where} is nested too deeply or holds too many values")
        if isinstance(value, dict):
            stack += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, list):
            stack += [(item, depth + 1) for item in value]


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter, body) of a file that may start with `---` YAML `---`."""
    handler = frontmatter.YAMLHandler()
    if not handler.detect(text):
        return {}, text
    try:
        raw, body = handler.split(text)
    except ValueError:
        raise MadrError("front matter starts with '---' but never ends") from None
    return load_yaml(raw, "front matter"), body


# --- blocks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    raw: str  # the heading's inline markdown, comments removed
    name: str  # its plain text


@dataclass(frozen=True)
class Item:
    """One list item: its first paragraph as one line of markdown, and what is nested under
    it (dedented source)."""

    raw: str
    rest: str
    source: str


class Body:
    """The top-level blocks of a markdown body, and the source text of any run of them."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.blocks: list[SyntaxTreeNode] = list(SyntaxTreeNode(_MD.parse(text)).children)

    def source(self, blocks: list[SyntaxTreeNode]) -> str:
        """The source of `blocks`, from the first one's first line to the last one's last,
        without comments."""
        kept = [block for block in blocks if block.map and not is_comment(block)]
        if not kept:
            return ""
        start, end = kept[0].map[0], kept[-1].map[1]
        skipped = {
            line
            for block in blocks
            if block.map and is_comment(block) and start <= block.map[0] < end
            for line in range(*block.map)
        }
        lines = [self.lines[i] for i in range(start, end) if i not in skipped]
        return _tidy("\n".join(lines))

    def lines_of(self, block: SyntaxTreeNode) -> list[str]:
        """The source lines of one block, comments removed, blank lines dropped."""
        if not block.map or is_comment(block):
            return []
        text = _COMMENT.sub("", "\n".join(self.lines[block.map[0] : block.map[1]]))
        return [line.strip() for line in text.split("\n") if line.strip()]

    def items(self, block: SyntaxTreeNode) -> list[Item]:
        """The items of a bullet or ordered list."""
        if block.type not in ("bullet_list", "ordered_list"):
            return []
        return [self._item(node) for node in block.children if node.map]

    def _item(self, node: SyntaxTreeNode) -> Item:
        start, end = node.map
        source = _tidy(textwrap.dedent("\n".join(self.lines[start:end])))
        first = node.children[0] if node.children else None
        if first is None or first.type != "paragraph" or not first.map:
            return Item("", _tidy(_drop_marker("\n".join(self.lines[start:end]))), source)
        raw = one_line(first.children[0].content if first.children else "")
        rest = "\n".join(self.lines[first.map[1] : end])
        return Item(raw, _tidy(textwrap.dedent(rest)), source)


def _drop_marker(text: str) -> str:
    return textwrap.dedent(re.sub(r"^\s*(?:[*+-]|\d+[.)])\s?", "", text, count=1))


def _tidy(text: str) -> str:
    return _COMMENT.sub("", text).strip("\n").rstrip()


def is_comment(block: SyntaxTreeNode) -> bool:
    content = block.content.strip() if block.type == "html_block" else ""
    return content.startswith("<!--") and content.endswith("-->")


def extras_comment(block: SyntaxTreeNode) -> str | None:
    """The YAML of a `<!-- crossover … -->` block (the extras of a Nygard or Log4brains export)."""
    if block.type != "html_block":
        return None
    match = _EXTRAS_COMMENT.match(block.content)
    return match.group(1) if match else None


def heading(block: SyntaxTreeNode) -> Heading | None:
    if block.type != "heading":
        return None
    raw = one_line(_COMMENT.sub("", block.children[0].content if block.children else ""))
    return Heading(int(block.tag[1]), raw, plain(raw))


def paragraph_raw(block: SyntaxTreeNode) -> str:
    """A paragraph's inline markdown as written (its line breaks kept)."""
    if block.type != "paragraph" or not block.children:
        return ""
    return block.children[0].content


# --- inline ---------------------------------------------------------------------------------


def one_line(text: str) -> str:
    return " ".join(_COMMENT.sub("", text).split())


def _inline(text: str):
    tokens = _MD.parseInline(text)
    return tokens[0].children or [] if tokens else []


def plain(text: str) -> str:
    """The words of inline markdown as a reader sees them: link and emphasis marks gone,
    images by their alt text, comments dropped."""
    out = []
    for token in _inline(text):
        if token.type in ("text", "code_inline", "image"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return " ".join("".join(out).split())


def links(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(plain text before the first link, [(href, link text), …]) of inline markdown."""
    before: list[str] = []
    found: list[tuple[str, str]] = []
    current: list[str] | None = None
    for token in _inline(text):
        if token.type == "link_open":
            current = []
            found.append((str(token.attrGet("href") or ""), ""))
        elif token.type == "link_close" and current is not None:
            found[-1] = (found[-1][0], " ".join("".join(current).split()))
            current = None
        elif token.type in ("text", "code_inline", "image", "softbreak"):
            text_part = " " if token.type == "softbreak" else token.content
            (current if current is not None else before if not found else []).append(text_part)
    return " ".join("".join(before).split()), found


def images(text: str) -> list[tuple[str, str]]:
    """(alt text, src) of each image in inline markdown (status badges)."""
    return [
        (token.content, str(token.attrGet("src") or ""))
        for token in _inline(text)
        if token.type == "image"
    ]
