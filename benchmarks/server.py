"""The test suite's OpenAI-wire server, run in a child process so it never competes with us for the GIL.

Recording benchmarks time a client against a live server; with the server in a thread of the same
process, every microsecond the client spends would also delay the server. A child process keeps the
two apart. The app and the runner are the ones the tests use (tests/servers).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def openai_server() -> Iterator[str]:
    """Start the server in a child process; yields its base URL (``http://127.0.0.1:<port>/v1``)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        line = child.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"the benchmark server did not start (it said {line!r})")
        yield line
    finally:
        child.stdin.close()  # the child stops at EOF
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    from tests.servers.openai_app import create_app
    from tests.servers.runner import LiveServer

    with LiveServer(create_app()) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)


if __name__ == "__main__":
    main()
