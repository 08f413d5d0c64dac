"""A recording aiohttp reads refused (a credential in the body) reaches the caller, whenever the body
arrives: read whole before the shell sees the response, or fed after it, at the end of the stream. It
was lost in aiohttp's protocol callback for a body that came after the headers: nothing written, and
no error either."""

from __future__ import annotations

from pathlib import Path

import pytest

from httpx_cassette import CassetteSecretError, use_cassette
from tests.servers.echo import Canned
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

aiohttp = pytest.importorskip("aiohttp")
KEY = "sk-proj-" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kM9n"


@pytest.mark.parametrize("size", [10, 3_000_000])  # whole with the headers, or fed after them
async def test_a_refused_aiohttp_recording_raises_to_the_reader_and_writes_nothing(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], size: int
) -> None:
    body = b"x" * size + f" the key is {KEY}\n".encode()
    canned = Canned(content=body, headers=[("content-type", "text/plain")])
    openai_server.app.canned[f"refused-{size}"] = canned
    url = f"{openai_server.url}/v1/canned/refused-{size}"
    with use_cassette(tmp_path, mode="record") as cassette:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(CassetteSecretError, match="OpenAI"):
                async with session.get(url) as response:
                    await response.read()
    assert cassette.recorded == []
    assert list(tmp_path.rglob("*.json")) == []
