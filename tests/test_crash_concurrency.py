"""Crash and concurrency safety: a recorder killed mid-write (real processes, SIGKILL) leaves the old file or
the new one; 8 processes x 8 threads recording the same requests lose nothing and keep each session's
order; a hit in a directory of 10,000 recordings parses one file."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

import httpx
import msgspec
import pytest

from httpx_cassette import CassetteTransport, Request, Response, key_of
from httpx_cassette.model.cassette import CassetteFile
from httpx_cassette.storage.codec import decode_file, encode_file
from httpx_cassette.storage.files import file_name

HELPER = str(Path(__file__).with_name("concurrency_helpers.py"))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork-free workers: POSIX only")


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, HELPER, *args], stdout=subprocess.PIPE, text=True)


def read_until(stdout: IO[str], prefix: str) -> int:
    for line in stdout:
        if line.startswith(prefix):
            return int(line.split()[1])
    raise AssertionError(f"the worker exited before printing {prefix!r}")


def the_file(path: Path) -> tuple[Path, int]:
    """The one cassette file in ``path`` and the ``n`` its response carries (it must parse)."""
    [file] = path.glob("*.json")
    cassette = decode_file(file.read_bytes(), str(file))
    [response] = cassette.responses
    return file, response.body["n"]


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.stdout is not None
    process.stdout.close()


@pytest.mark.parametrize("where", ["--pause-in-write", "--pause-before-rename"])
def test_killed_while_writing_leaves_the_previous_file(tmp_path: Path, where: str) -> None:
    process = start("record-forever", str(tmp_path), where)
    assert process.stdout is not None
    assert read_until(process.stdout, "wrote") == 0
    assert read_until(process.stdout, "paused") == 1  # the second write is half done, or not yet renamed
    before = the_file(tmp_path)[0].read_bytes()
    kill(process)
    file, n = the_file(tmp_path)
    assert n == 0
    assert file.read_bytes() == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(f".{file.name}.")  # hidden, never read as a cassette
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.post("https://api.test/v1/big", json={"q": 1}).json()["n"] == 0


def test_killed_at_random_moments_leaves_a_complete_file(tmp_path: Path) -> None:
    rng = random.Random(6)
    for _ in range(3):
        process = start("record-forever", str(tmp_path))
        assert process.stdout is not None
        read_until(process.stdout, "wrote")
        os.sched_yield()
        process.stdout.readline() if rng.random() < 0.5 else None
        kill(process)
        file, n = the_file(tmp_path)  # parses: the old file or the new one, whole
        assert isinstance(n, int)
        assert file.stat().st_size > 2_000_000


def _answers(data: dict[str, Any], key: str) -> list[tuple[str, int]]:
    return [(a["by"], a["n"]) for a in data.get(key, [])]


@pytest.mark.parametrize("mode", ["record-missing", "record"])
def test_eight_processes_and_eight_threads_lose_nothing(tmp_path: Path, mode: str) -> None:
    cassette, gate = tmp_path / "cassette", tmp_path / "gate"
    processes, threads = 8, 8
    if mode == "record":  # an earlier run's recording, which record mode replaces
        stale = CassetteFile(
            request=Request(
                method="POST",
                url="https://api.test/v1/shared",
                body={"key": "shared-a"},
                headers={"content-type": "application/json"},
            ),
            responses=[Response(status=200, body={"by": "stale", "n": 0})],
        )
        key = key_of(stale.request)
        cassette.mkdir()
        (cassette / file_name(key, stale.request)).write_bytes(encode_file(stale))
    gated = str(gate) if mode == "record" else "-"
    workers = [
        start("record-shared", str(cassette), mode, f"w{i}", str(threads), gated, str(processes * threads))
        for i in range(processes)
    ]
    live: dict[str, list[tuple[str, int]]] = {}
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, out
        for key, answers in json.loads(out).items():
            live.setdefault(key, []).extend(_answers({key: answers}, key))

    files = sorted(cassette.glob("*.json"))
    assert len(files) == 2 + processes * threads  # shared-a, shared-b, and one of each session's own
    assert not [p for p in cassette.iterdir() if p.suffix == ".tmp"]
    for file in files:
        stored = decode_file(file.read_bytes(), str(file))  # every file parses
        key = stored.request.body["key"]  # type: ignore[index]
        answers = [(r.body["by"], r.body["n"]) for r in stored.responses]
        assert Counter(answers) == Counter(live[key]), f"{file.name}: lost or duplicated responses"
        for session in {by for by, _ in answers}:
            ns = [n for by, n in answers if by == session]
            assert ns == sorted(ns), f"{file.name}: the repeats of {session} are out of order"
    shared_a = [f for f in files if f.read_bytes().count(b'"shared-a"')]
    [a] = shared_a
    if mode == "record":
        assert b'"stale"' not in a.read_bytes()
        assert len(live["shared-a"]) == processes * threads * 3  # every session recorded all its calls
    else:
        assert len(live["shared-a"]) >= 3  # later sessions replay what earlier ones recorded


def _fake_directory(path: Path, count: int) -> None:
    path.mkdir()
    for i in range(count):
        request = Request(
            method="POST",
            url=f"https://api.test/v1/items/{i}",
            body={"i": i},
            headers={"content-type": "application/json"},
        )
        data = msgspec.json.encode(
            CassetteFile(request=request, responses=[Response(status=200, body={"item": i})])
        )
        fd = os.open(path / file_name(key_of(request), request), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, data)
        os.close(fd)


def test_a_hit_among_ten_thousand_recordings_parses_one_file(tmp_path: Path, parsed_files: list[str]) -> None:
    _fake_directory(tmp_path / "big", 10_000)
    parsed = parsed_files
    with httpx.Client(transport=CassetteTransport(tmp_path / "big", mode="replay")) as client:
        assert client.post("https://api.test/v1/items/4321", json={"i": 4321}).json() == {"item": 4321}
        assert len(parsed) == 1
        assert client.post("https://api.test/v1/items/17", json={"i": 17}).json() == {"item": 17}
        assert client.post("https://api.test/v1/items/4321", json={"i": 4321}).json() == {"item": 4321}
    assert len(parsed) == 2  # one parse per distinct request served, cached after that
