"""Re-record the cassettes shipped in ``cassettes/`` from the project's local OpenAI-wire test server.

    python examples/record_cassettes.py

The server (``tests/servers/openai_app.py``, uvicorn + starlette on 127.0.0.1) speaks OpenAI's real
wire format, paced like a real stream, so the shipped cassettes are made by this project's own tools
and hold no real key, account or response. Run it from a source checkout.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import httpx
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.quickstart import CASSETTE, QUESTION  # noqa: E402
from httpx_cassette import CassetteTransport  # noqa: E402
from tests.servers.openai_app import create_app  # noqa: E402
from tests.servers.runner import LiveServer  # noqa: E402

ANSWER = (
    "Recording and replaying LLM calls turns slow, paid, non-deterministic network traffic into "
    "fixtures: each test runs in milliseconds, offline and without an API key, gets the same answer "
    "every time, and still exercises the real SDK and your parsing code, so a failure means your code "
    "changed, not the model."
)


def record_quickstart() -> Path:
    shutil.rmtree(CASSETTE, ignore_errors=True)
    with LiveServer(create_app(replies={QUESTION: ANSWER})) as server:
        transport = CassetteTransport(CASSETTE, mode="record")
        client = openai.OpenAI(
            base_url=server.base_url,
            api_key="sk-local-test-server",
            http_client=httpx.Client(transport=transport),
        )
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            extra_headers={"x-mock-delay-ms": "15"},
        )
        for _ in stream:
            pass
    return CASSETTE


if __name__ == "__main__":
    print(f"recorded {record_quickstart().relative_to(ROOT)}")
