"""Every credential pattern runs in time linear in its text. A pattern that may start again at every
"-" of a long run and scan the rest of the run each time is quadratic: "sk-ant-" * 9,000,000 (a
440-byte double-gzip side file) would have kept `scan`, `convert` and a replay miss's message busy for
days. Each text here is large enough that a quadratic pattern would take minutes (the suite's own time
limit is the check; nothing here is timed)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from httpx_cassette.core.decoded import base64_inside
from httpx_cassette.core.embedded import code_secrets, json_pairs
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


# Two whole lines of base64 of text, then a blank line: one block of base64 lines, whose lines are tokens too.
_BLOCK = base64.b64encode(b"hello world, this is some text here!!").decode()
BLOCKS = (_BLOCK[:24] + "\n" + _BLOCK[24:] + "\n\n") * 200_000


def test_many_base64_blocks_are_read_in_one_walk() -> None:
    """Each token is checked against the one block that may hold it: checking it against every block
    found before it made these 200,000 blocks (10 MB) take half an hour, and a 7 KB gzip body 83 s."""
    assert base64_inside(BLOCKS) == [b"hello world, this is some text here!!"]


def test_a_body_of_many_base64_blocks_is_scanned(tmp_path: Path) -> None:
    body = base64.b64encode(gzip.compress(BLOCKS[: len(BLOCKS) // 2].encode(), mtime=0)).decode()
    headers = {"content-type": "text/plain", "content-encoding": "gzip"}
    cassette = {
        "version": 1,
        "request": {"method": "GET", "url": "https://api.example.com/v1/x"},
        "responses": [{"status": 200, "headers": headers, "base64": body}],
    }
    (tmp_path / "get-x-000000000000.json").write_text(json.dumps(cassette))
    assert scan_directory(tmp_path) == []


def test_a_string_left_open_with_escaped_quotes_is_read_once() -> None:
    # A pattern for whole strings was tried again at every escaped quote of one left open, reading the
    # rest of its line each time: 80 KB of this took 12 s
    text = '{"a": "' + '\\"' * SIZE + '\n"Name": "DB_PASSWORD", "Value": "x"'
    assert json_pairs(text)[-1] == ("DB_PASSWORD", "x")


def test_unquoted_settings_holding_settings_are_read_once() -> None:
    # Each `NAME=` of `XA=XA=...` is a pair whose value holds the rest: searched again inside every value,
    # a megabyte took seconds, and a form nested 24 deep in a small gzip body minutes
    assert code_secrets("XA=" * SIZE) == []
    assert code_secrets('{"log": "client = OpenAI(api_key=\\"x\\")"} ' * (SIZE // 40)) == []
