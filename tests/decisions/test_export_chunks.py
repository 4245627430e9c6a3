"""The whole-log export: the C YAML emitter writes what the Python one wrote, and prefetching a
chunk at a time gives the same archive in a number of queries that grows by chunk only."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.madr import writing
from decisions.services import exports
from tests.decisions.records_helpers import complete_data, create

pytestmark = pytest.mark.django_db


def test_the_c_emitter_is_used_and_writes_what_the_python_one_writes():
    assert writing._DUMPER is yaml.CSafeDumper
    value = {
        "title": "Café: «quotes», colons: and # hashes",
        "decision-makers": ["Zoë", "bob"],
        "date": "2026-03-01",
        "nested": {"list": [1, 2.5, None, True], "empty": []},
        "long": "word " * 300,
    }
    python = yaml.safe_dump(
        value, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000
    )
    assert writing._yaml(value) == python


def _archive(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_chunked_prefetching_gives_the_same_archive(team, user, monkeypatch):
    for i in range(7):
        create(team, user, complete_data(title=f"Decision {i}"))
    whole = _archive(exports.decisions_export_zip(team=team))
    assert len(whole) == 8  # seven records and the index
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 3)
    with CaptureQueriesContext(connection) as three_chunks:
        chunked = _archive(exports.decisions_export_zip(team=team))
    assert chunked == whole
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 7)
    with CaptureQueriesContext(connection) as one_chunk:
        exports.decisions_export_zip(team=team)
    # Each further chunk repeats the record query and its prefetches, nothing per record.
    per_chunk = (len(three_chunks) - len(one_chunk)) / 2
    assert per_chunk == int(per_chunk) and 0 < per_chunk < len(one_chunk)
