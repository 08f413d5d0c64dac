"""Replay a shipped cassette through the OpenAI SDK: no network, no API key.

    python examples/quickstart.py

The cassette in ``cassettes/quickstart/`` was recorded by ``examples/record_cassettes.py`` from
the project's local test server. To record your own traffic instead, run with
``HTTPX_CASSETTE_MODE=record-missing`` and a real ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import openai

from httpx_cassette import CassetteTransport

CASSETTE = Path(__file__).resolve().parent.parent / "cassettes" / "quickstart"
QUESTION = "In one paragraph: why record and replay LLM calls in tests?"


def main() -> None:
    # mode: $HTTPX_CASSETTE_MODE, else "replay"; replay_timing="recorded" keeps the recorded pacing.
    transport = CassetteTransport(CASSETTE, replay_timing="recorded")
    client = openai.OpenAI(
        api_key=os.environ.get("OPENAI_API_KEY", "sk-replay-no-key"),
        http_client=httpx.Client(transport=transport),
    )
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()


if __name__ == "__main__":
    main()
