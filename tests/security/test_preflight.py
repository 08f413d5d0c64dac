"""Storage problems are reported before anything goes out: at creation, or before the first forward.

Each case counts what the local server received: 0 for a failure found before forwarding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteError, CassetteFormatError, CassetteTransport, use_cassette
from tests.security.sdks import Upstream, leaking_app
from tests.servers.runner import LiveServer


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Upstream]]:
    upstream = Upstream()
    with LiveServer(leaking_app(upstream)) as live:
        yield live.url, upstream


def chat(url: str, transport: CassetteTransport, text: str) -> Any:
    http = httpx.Client(transport=transport)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="test-key", http_client=http)
    return client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])


@pytest.mark.parametrize("mode", ["replay", "record", "record-missing", "live"])
def test_a_cassette_path_that_is_a_file_fails_at_creation(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "cassette"
    path.write_text("a file")
    with pytest.raises(CassetteError, match=f"cassette path {path} is a file, not a directory"):
        CassetteTransport(path, mode=mode)  # type: ignore[arg-type]
    with pytest.raises(CassetteError, match="is a file, not a directory"), use_cassette(path, mode=mode):  # type: ignore[arg-type]
        pass


@pytest.mark.parametrize("mode", ["record", "record-missing"])
def test_a_directory_that_cannot_be_created_fails_at_creation_even_as_root(tmp_path: Path, mode: str) -> None:
    (tmp_path / "file").write_text("a regular file")
    path = tmp_path / "file" / "below" / "cassette"  # no one, not even root, can make this directory
    with pytest.raises(CassetteError, match=f"cannot create cassette directory {path}: .*file is a file"):
        CassetteTransport(path, mode=mode)  # type: ignore[arg-type]


def test_replay_of_a_path_under_a_file_is_a_plain_miss(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a regular file")
    transport = CassetteTransport(tmp_path / "file" / "cassette", mode="replay")  # nothing is written
    assert transport.cassette.mode == "replay"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"replay_timing": "slowly"}, "unknown replay_timing 'slowly'"),
        ({"replay_timing": 0}, "unknown replay_timing 0"),
        ({"format": "yaml"}, "unknown format 'yaml'"),
        ({"mode": "recrod"}, "unknown mode 'recrod'"),
    ],
)
def test_unknown_option_values_fail_at_creation(
    tmp_path: Path, option: dict[str, Any], message: str, server: tuple[str, Upstream]
) -> None:
    url, upstream = server
    before = len(upstream.bodies)
    with pytest.raises(CassetteError, match=message):
        chat(url, CassetteTransport(tmp_path, **option), "never sent")
    with pytest.raises(CassetteError, match=message), use_cassette(tmp_path, **option):
        pass
    assert len(upstream.bodies) == before


def test_a_directory_replaced_by_a_file_after_creation_fails_before_forwarding(
    tmp_path: Path, server: tuple[str, Upstream]
) -> None:
    url, upstream = server
    path = tmp_path / "cassette"
    transport = CassetteTransport(path, mode="record")
    path.write_text("someone put a file here")
    with pytest.raises(CassetteError, match=f"{path} is a file, not a directory"):
        chat(url, transport, "replaced directory")
    assert upstream.saw("replaced directory") == 0


@pytest.mark.parametrize("mode", ["record", "record-missing"])
def test_a_cassette_file_replaced_by_a_directory_fails_before_forwarding(
    tmp_path: Path, mode: str, server: tuple[str, Upstream]
) -> None:
    url, upstream = server
    text = f"file replaced by a directory {mode}"
    chat(url, CassetteTransport(tmp_path, mode="record"), text)
    [file] = tmp_path.glob("*.json")
    file.unlink()
    file.mkdir()
    with pytest.raises(CassetteFormatError, match=f"broken cassette file {file}: it is a directory"):
        chat(url, CassetteTransport(tmp_path, mode=mode), text)  # type: ignore[arg-type]
    assert upstream.saw(text) == 1  # the first recording only
    assert file.is_dir()
