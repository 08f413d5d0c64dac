"""The round-trip helpers themselves: a round trip proves something only when the calls succeeded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteTransport
from tests.roundtrip_helpers import API_KEY, outcome, record_then_replay, record_then_replay_async
from tests.servers.openai_app import create_app


def broken_call(transport: CassetteTransport, url: str) -> Any:
    # Raises before anything is sent, live and replayed alike: equal error summaries, nothing tested.
    client = openai.OpenAI(
        base_url=url + "/v1", api_key=API_KEY, http_client=httpx.Client(transport=transport)
    )
    return client.embeddings.create(model="text-embedding-3-large")  # type: ignore[call-arg]


def test_a_round_trip_where_both_calls_raise_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="both the live and the replayed call raised") as failed:
        record_then_replay(tmp_path, create_app(), broken_call)
    assert isinstance(failed.value.__cause__, TypeError)  # the real error is kept, not swallowed


async def test_the_async_helper_fails_the_same_way(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        return broken_call(transport, url)

    with pytest.raises(AssertionError, match="both the live and the replayed call raised"):
        await record_then_replay_async(tmp_path, create_app(), call)


def test_an_expected_error_is_compared_through_outcome(tmp_path: Path) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        return outcome(lambda: broken_call(transport, url))

    rt = record_then_replay(tmp_path, create_app(), call)
    assert rt.live["raised"] == "builtins.TypeError"
    assert rt.replayed == rt.live
