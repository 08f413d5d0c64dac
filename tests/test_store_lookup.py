"""Finding a recording without listing the cassette directory (what keeps 10,000-file cassettes fast).

A replayed request is looked up under the file name recording gives it; only when that file is not
there (renamed by hand, or a miss) is the directory listed and every unread file parsed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"echo": json.loads(request.content)})


def _record(path: Path, n: int) -> None:
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(_answer))
    with httpx.Client(transport=transport, base_url="https://api.test") as c:
        for i in range(n):
            c.post("/v1/chat/completions", json={"q": i})


def _replay(path: Path, i: int) -> object:
    with httpx.Client(transport=CassetteTransport(path, mode="replay"), base_url="https://api.test") as c:
        return c.post("/v1/chat/completions", json={"q": i}).json()


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every directory listed by os.scandir from now on."""
    seen: list[str] = []
    real = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        seen.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return seen


def test_a_hit_reads_its_own_file_without_listing_the_directory(tmp_path: Path, listings: list[str]) -> None:
    _record(tmp_path, 3)
    listings.clear()
    assert _replay(tmp_path, 1) == {"echo": {"q": 1}}
    assert listings == []


def test_a_renamed_file_is_still_found_by_listing(tmp_path: Path, listings: list[str]) -> None:
    _record(tmp_path, 2)
    [first] = [f for f in tmp_path.glob("*.json") if json.loads(f.read_text())["request"]["body"] == {"q": 0}]
    first.rename(tmp_path / "my-own-name.json")
    listings.clear()
    assert _replay(tmp_path, 0) == {"echo": {"q": 0}}
    assert listings == [str(tmp_path)]


def test_a_miss_still_lists_and_explains(tmp_path: Path, listings: list[str]) -> None:
    _record(tmp_path, 1)
    listings.clear()
    with pytest.raises(CassetteMiss):
        _replay(tmp_path, 5)
    assert str(tmp_path) in listings
