"""The README's main job: the quickstart replays a shipped cassette through the OpenAI SDK, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from httpx_cassette import Cassette

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_prints_the_streamed_answer_offline() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HTTPX_CASSETTE_"))}
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"  # any network attempt would fail
    result = subprocess.run(
        [sys.executable, "examples/quickstart.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Recording and replaying LLM calls turns slow, paid")
    assert result.stdout.rstrip().endswith("so a failure means your code changed, not the model.")


def test_shipped_cassettes_parse_and_hold_no_credentials() -> None:
    files = sorted((ROOT / "cassettes").rglob("*.json"))
    assert files, "cassettes/ ships example cassettes"
    read = sum(len(Cassette(d, mode="replay").all_recorded()) for d in {file.parent for file in files})
    assert read == len(files)  # every file parses (a broken one raises CassetteFormatError)
    for file in files:
        data = file.read_bytes()
        assert b"authorization" not in data.lower()
        assert b"sk-local-test-server" not in data
