"""Every credential pattern runs in time linear in its text. A pattern that may start again at every
"-" of a long run and scan the rest of the run each time is quadratic: "sk-ant-" * 9,000,000 (a
440-byte double-gzip side file) would have kept `scan`, `convert` and a replay miss's message busy for
days. Each text here is large enough that a quadratic pattern would take minutes (the suite's own time
limit is the check; nothing here is timed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from httpx_cassette.core.secrets import known_format
from httpx_cassette.core.shown import shown
from httpx_cassette.storage.scan import scan_directory

RUNS = ["sk-ant-", "sk-", "eyJ-", "eyJab.eyJ-", "bearer bearer ", "-----BEGIN A", "ghp_-", "AKIA-"]
RUNS += ["GOCSPX-", "ya29.", "hvs.", "pa-", "xai-", "csk-", "tvly-dev-", "pcsk_a_", "sk_", "dapi-", "r8_-"]
SIZE = 400_000


@pytest.mark.parametrize("unit", RUNS)
def test_a_long_run_of_pattern_starts_is_read_once(unit: str) -> None:
    text = unit * (SIZE // len(unit))
    assert known_format(text) == []
    assert shown(text) == text


def test_a_side_file_of_pattern_starts_is_scanned(tmp_path: Path) -> None:
    root = tmp_path
    (root / "get-x-000000000000.0.bin").write_bytes(gzip.compress(gzip.compress(b"sk-ant-" * 300_000)))
    assert scan_directory(root) == []
