"""Hostile cassettes at replay: what a file from a pull request says about timing, framing headers and
where the cassette lives must not hang a test run, lie to the client or lead outside the repository."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteError, CassetteTransport
from httpx_cassette.core import budget
from httpx_cassette.core import scan as scan_module
from httpx_cassette.http import streams
from httpx_cassette.storage.scan import scan_directory

SSE = {"content-type": "text/event-stream"}


def _record_stream(path: Path) -> Path:
    body = b'data: {"n": 1}\n\ndata: {"n": 2}\n\n'
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, headers=SSE, content=body))
    with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
        client.get("https://api.test/v1/stream").read()
    [file] = path.glob("*.json")
    return file


def _edit(file: Path, **response: Any) -> None:
    data = json.loads(file.read_text())
    data["responses"][0].update(response)
    file.write_text(json.dumps(data))


def _replay(path: Path, **options: Any) -> httpx.Response:
    with httpx.Client(transport=CassetteTransport(path, mode="replay", **options)) as client:
        response = client.get("https://api.test/v1/stream")
        response.read()
        return response


@pytest.mark.parametrize("offsets", [[1.0, 1e300], [1.0, -5.0], [1.0, 3.6e9]])
def test_offsets_a_replay_cannot_honour_are_refused_naming_the_file(
    tmp_path: Path, offsets: list[float]
) -> None:
    file = _record_stream(tmp_path)
    _edit(file, offsets_ms=offsets)
    with pytest.raises(CassetteError, match=rf"{file.name}.*offsets_ms\[1\]"):
        _replay(tmp_path, replay_timing="recorded")


def test_a_paced_replay_waits_at_most_a_minute_whatever_the_file_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = _record_stream(tmp_path)
    _edit(file, elapsed_ms=0.0, offsets_ms=[1.0, 80_000_000.0])  # 22 hours, within what a file may say
    slept: list[float] = []
    monkeypatch.setattr(streams.time, "sleep", slept.append)
    assert _replay(tmp_path, replay_timing="recorded").text.count("data:") == 2
    assert max(slept) == 60.0
    assert sum(slept) < 61


def test_a_paced_replay_waits_ten_minutes_at_most_in_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offsets that go back and forth (0, 24 h, 0, 24 h...) made every other gap a minute: 10,000 events
    slept 83 hours. Gaps are taken from the latest offset so far, and a response waits ten minutes in all."""
    upstream_body = b"".join(b'data: {"n": %d}\n\n' % i for i in range(400))
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, headers=SSE, content=upstream_body))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.get("https://api.test/v1/stream").read()
    [file] = tmp_path.glob("*.json")
    _edit(file, elapsed_ms=0.0, offsets_ms=[0.0 if i % 2 else 86_000_000.0 for i in range(400)])
    slept: list[float] = []
    monkeypatch.setattr(streams.time, "sleep", slept.append)
    assert _replay(tmp_path, replay_timing="recorded").text.count("data:") == 400
    assert sum(slept) <= 60.0  # one long gap: the later offsets never go past the first
    _edit(file, offsets_ms=[i * 60_000.0 for i in range(400)])  # 400 minutes, in order
    slept.clear()
    assert _replay(tmp_path, replay_timing="recorded").text.count("data:") == 400
    assert sum(slept) == 600.0


def test_a_decoded_body_is_served_without_the_content_encoding_a_file_claims(tmp_path: Path) -> None:
    """Text is stored decoded. A content-encoding written next to it would have the client decode it
    again: a raw deflate stream can be valid UTF-8 and cut a key in two for `scan`, whole for the client."""
    file = _record_stream(tmp_path)
    text = "sk-pr" + "\x20\x40\u07ff" + "oj-not-a-key"
    data = json.loads(file.read_text())
    data["responses"][0] = {
        "status": 200,
        "headers": {"content-type": "text/plain", "content-encoding": "deflate"},
        "text": text,
    }
    file.write_text(json.dumps(data))
    response = _replay(tmp_path)
    assert "content-encoding" not in response.headers
    assert response.text == text


def test_text_with_nuls_is_scanned_as_the_utf32_a_client_may_read(tmp_path: Path) -> None:
    key = "sk-" + "proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ"
    file = _record_stream(tmp_path)
    data = json.loads(file.read_text())
    data["responses"][0] = {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "text": json.dumps({"k": key}).encode("utf-32-le").decode(),
    }
    file.write_text(json.dumps(data))
    assert scan_directory(tmp_path)


def test_framing_headers_in_a_file_do_not_contradict_the_body(tmp_path: Path) -> None:
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.get("https://api.test/v1/stream")
    [file] = tmp_path.glob("*.json")
    headers = {"Content-Length": "1000000", "Transfer-Encoding": "chunked", "Content-Type": "text/plain"}
    _edit(file, headers=headers)
    response = _replay(tmp_path)
    assert response.headers.get_list("content-length") == [str(len(response.content))]
    assert "transfer-encoding" not in response.headers
    assert response.headers.get_list("content-type") == ["text/plain"]
    assert response.json() == {"ok": True}


def test_a_stream_is_served_without_a_length_the_file_claims(tmp_path: Path) -> None:
    file = _record_stream(tmp_path)
    _edit(file, headers={**SSE, "content-length": "3"})
    response = _replay(tmp_path)
    assert "content-length" not in response.headers
    assert response.text.count("data:") == 2


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
@pytest.mark.parametrize("mode", ["replay", "record-missing"])
def test_a_cassette_directory_reached_through_a_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    _record_stream(elsewhere)
    project = tmp_path / "project"
    (project / "cassettes").mkdir(parents=True)
    monkeypatch.chdir(project)
    (project / "cassettes" / "test_x").symlink_to(elsewhere)  # the cassette itself is a link
    (project / "linked").symlink_to(project / "cassettes")  # a link on the way to it
    for path in ("cassettes/test_x", "linked/real"):
        with pytest.raises(CassetteError, match="symbolic link"):
            CassetteTransport(path, mode=mode)


def test_scan_reads_a_bounded_amount_of_compressed_data_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "CHECK_BYTES", 4 * 1024 * 1024)
    bomb = base64.b64encode(gzip.compress(b"\0" * 3 * 1024 * 1024)).decode()  # 3 MiB each, 3 KB stored
    body = {f"f{i}": bomb for i in range(5)}
    planted = {
        "request": {"method": "GET", "url": "https://api.test/"},
        "responses": [{"status": 200, "body": body}],
    }
    (tmp_path / "bombs.json").write_text(json.dumps(planted))
    kinds = {finding.kind for finding in scan_directory(tmp_path)}
    assert kinds == {"more compressed data than one check reads (4 MiB)"}


def test_scan_reads_a_bounded_amount_of_compressed_data_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many small files, each a bomb within one check's budget (270 bytes in git, 63 MiB inflated),
    share one budget for the whole run: 10,000 of them took hours."""
    monkeypatch.setattr(budget, "RUN_BYTES", 8 * 1024 * 1024)
    side = gzip.compress(b"\0" * 3 * 1024 * 1024)  # 3 MiB each
    for i in range(6):
        (tmp_path / f"get-x-{i:012d}.0.bin").write_bytes(side)
    kinds = [finding.kind for finding in scan_directory(tmp_path)]
    assert "more compressed data than one scan reads (8 MiB)" in kinds


def test_scan_reads_a_file_of_too_many_containers_as_text(tmp_path: Path) -> None:
    """Loading refuses a file of more than a million JSON objects and arrays (512 MiB of `[]` would
    take tens of GB); `scan` does not decode it either, says so, and still reads its lines."""
    key = "sk-" + "proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ"
    (tmp_path / "x.json").write_bytes(b"[" + b"[]," * 1_000_001 + f'"{key}"]'.encode())
    findings = scan_directory(tmp_path)
    assert findings[0].masked == "not checked"
    assert any(f.kind == "OpenAI API key" for f in findings)


def _served_body(path: Path, blob: bytes, coding: str) -> None:
    headers = {"content-type": "text/plain", "content-encoding": coding}
    planted = {
        "request": {"method": "GET", "url": "https://api.test/blob"},
        "responses": [{"status": 200, "headers": headers, "base64": base64.b64encode(blob).decode()}],
    }
    (path / "get-blob-000000000000.json").write_text(json.dumps(planted))


def test_scan_undoes_every_compression_layer_a_client_would(tmp_path: Path) -> None:
    key = "AKIA" + "QWERTYUIOPASDFGH"
    _served_body(
        tmp_path, gzip.compress(gzip.compress(gzip.compress(f"rotate {key}".encode()))), "gzip, gzip, gzip"
    )
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert key in client.get("https://api.test/blob").text  # what the client gets
    assert {finding.kind for finding in scan_directory(tmp_path)} == {"AWS access key id"}


def test_scan_says_what_it_could_not_read_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A body past the decompression bound is not called clean: the key after it was never read.
    monkeypatch.setattr(scan_module, "MAX_INFLATED", 1024 * 1024)
    key = "AKIA" + "QWERTYUIOPASDFGH"
    _served_body(tmp_path, gzip.compress(b" " * 2 * 1024 * 1024 + key.encode()), "gzip")
    findings = scan_directory(tmp_path)
    assert findings
    assert all(finding.masked == "not checked" for finding in findings)
    assert all("decompresses past what one check reads" in finding.kind for finding in findings)
