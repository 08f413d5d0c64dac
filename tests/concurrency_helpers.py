"""Worker processes for test_crash_concurrency.py: ``python tests/concurrency_helpers.py <command> ...``.

``record-forever DIR [--pause-in-write | --pause-before-rename]``
    Records one request with a ~2 MB response over and over in record mode, each time a new session
    (so each write replaces the file), and prints ``wrote <n>`` after the n-th write. With a pause flag
    it prints ``paused <n>`` in the middle of writing the temporary file, or after the temporary file
    is complete but before the rename, and sleeps there, waiting to be killed.
``record-shared DIR MODE WORKER THREADS GATE SESSIONS``
    THREADS threads, each with its own CassetteTransport over DIR in MODE, make the same sequence of
    requests (three shared ones, one repeated, and one of their own). The upstream answers
    ``{"by": "<worker>.<thread>", "n": <nth call of that key by the thread>}``. With a GATE directory,
    the first upstream call of each thread for each shared key waits until all SESSIONS have made it (so all
    first touches of a key come before any write of it). Prints the live answers as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from httpx_cassette import CassetteTransport
from httpx_cassette.storage import files as _store

BIG = "x" * 2_000_000


def _client(path: str, mode: str, upstream: Any) -> httpx.Client:
    transport = CassetteTransport(path, mode=mode, inner=httpx.MockTransport(upstream))
    return httpx.Client(transport=transport, base_url="https://api.test")


def _pause(n: list[int]) -> None:
    print(f"paused {n[0]}", flush=True)
    time.sleep(60)


def record_forever(path: str, flag: str | None) -> None:
    n = [0]
    if flag == "--pause-before-rename":
        real_replace = os.replace

        def replace(src: Any, dst: Any) -> None:
            if str(dst).endswith(".json") and n[0] > 0:
                _pause(n)
            real_replace(src, dst)

        _store.os.replace = replace  # type: ignore[attr-defined]
    if flag == "--pause-in-write":
        real_fdopen = os.fdopen

        class HalfThenPause:
            def __init__(self, out: Any) -> None:
                self.out = out

            def __enter__(self) -> HalfThenPause:
                return self

            def __exit__(self, *exc: object) -> None:
                self.out.close()

            def write(self, data: bytes) -> None:
                if n[0] > 0:
                    self.out.write(data[: len(data) // 2])
                    self.out.flush()
                    _pause(n)
                self.out.write(data)

            def flush(self) -> None:
                self.out.flush()

            def fileno(self) -> int:
                return int(self.out.fileno())

        _store.os.fdopen = lambda fd, mode: HalfThenPause(real_fdopen(fd, mode))  # type: ignore[attr-defined]

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"n": n[0], "filler": BIG})

    while True:
        with _client(path, "record", upstream) as client:
            client.post("/v1/big", json={"q": 1})
        print(f"wrote {n[0]}", flush=True)
        n[0] += 1


def record_shared(path: str, mode: str, worker: str, threads: int, gate: str, sessions: int) -> None:
    live: dict[str, list[dict[str, Any]]] = {}
    lock = threading.Lock()
    plan = [("shared-a", 3), ("shared-b", 2), ("own", 1)]
    errors: list[BaseException] = []

    def wait_for_all(key: str, me: str) -> None:
        folder = Path(gate, key)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / me).touch()
        deadline = time.monotonic() + 30
        while len(os.listdir(folder)) < sessions:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(os.listdir(folder))} of {sessions} sessions reached {key}")
            time.sleep(0.002)

    def run(thread: int) -> None:
        me = f"{worker}.{thread}"
        calls: dict[str, int] = {}

        def upstream(request: httpx.Request) -> httpx.Response:
            key = json.loads(request.content)["key"]
            nth = calls.get(key, 0)
            calls[key] = nth + 1
            if gate != "-" and nth == 0 and key.startswith("shared"):
                wait_for_all(key, me)
            answer = {"by": me, "n": nth}
            with lock:
                live.setdefault(key, []).append(answer)
            return httpx.Response(200, json=answer)

        try:
            with _client(path, mode, upstream) as client:
                for key, times in plan:
                    body = {"key": key if key != "own" else f"own-{me}"}
                    for _ in range(times):
                        client.post("/v1/shared", json=body)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if errors:
        raise errors[0]
    print(json.dumps(live))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "record-forever":
        record_forever(args[0], args[1] if len(args) > 1 else None)
    elif command == "record-shared":
        record_shared(args[0], args[1], args[2], int(args[3]), args[4], int(args[5]))
    else:
        raise SystemExit(f"unknown command {command!r}")
