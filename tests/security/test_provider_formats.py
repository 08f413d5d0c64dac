"""Provider keys with a documented prefix and shape (xAI, Perplexity, Replicate, Tavily, Pinecone,
LangSmith, ElevenLabs, Voyage AI, Cerebras, Google OAuth, Vault, Databricks), where no secret name stands
next to them: code an answer writes (``Client("<key>")``), a stream's delta. Recording refuses each,
through the fast check a recording runs first as much as the full one, and ``scan`` flags each in a file.
Every sample is assembled at run time (`tests.security.test_known_formats.SAMPLES`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from tests.security.test_known_formats import SAMPLES

KINDS = [
    "xAI API key",
    "Perplexity API key",
    "Replicate API token",
    "Tavily API key",
    "Pinecone API key",
    "LangSmith API key",
    "ElevenLabs API key",
    "Voyage AI API key",
    "Cerebras API key",
    "Google OAuth access token",
    "Google OAuth client secret",
    "Vault token",
    "Databricks token",
]
URL = "https://api.example.com/v1/chat/completions"


def _answer(key: str) -> str:
    return f'```python\nclient = Client("{key}")\n```\nThat is the key from your dashboard.'


def _record(tmp_path: Path, response: httpx.Response) -> None:
    upstream = httpx.MockTransport(lambda request: response)
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client:
        client.post(URL, json={"model": "m", "messages": []}).read()


@pytest.mark.parametrize("kind", KINDS)
def test_recording_refuses_a_provider_key_in_a_json_body(tmp_path: Path, kind: str) -> None:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": _answer(SAMPLES[kind])}}]}
    with pytest.raises(CassetteSecretError) as refused:
        _record(tmp_path, httpx.Response(200, json=body))
    assert kind in str(refused.value)
    assert SAMPLES[kind] not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", KINDS)
def test_recording_refuses_a_provider_key_in_a_stream_event(tmp_path: Path, kind: str) -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"content": text}}]} for text in ("Here:", _answer(SAMPLES[kind]))
    ]
    sse = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse.encode())
    with pytest.raises(CassetteSecretError) as refused:
        _record(tmp_path, response)
    assert kind in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", KINDS)
def test_scan_flags_a_provider_key_in_a_file(tmp_path: Path, kind: str) -> None:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": _answer(SAMPLES[kind])}}]}
    file = {
        "version": 1,
        "request": {"method": "POST", "url": URL, "body": {"model": "m", "messages": []}},
        "responses": [{"status": 200, "headers": {"content-type": "application/json"}, "body": body}],
    }
    (tmp_path / "post-chat-completions-000000000000.json").write_text(json.dumps(file, indent=2))
    out, err = io.StringIO(), io.StringIO()
    assert main(["scan", str(tmp_path)], Console(out, err, fancy=False)) == 1
    assert f"$.responses[0].body.choices[0].message.content: {kind}" in out.getvalue() + err.getvalue()
    assert SAMPLES[kind] not in out.getvalue() + err.getvalue()


def test_a_clean_answer_naming_the_providers_records(tmp_path: Path) -> None:
    """Model names and words that start as these keys do are no credential: recorded as they are."""
    text = "Try xai-grok-2-latest, pplx-7b-online or sk_learn; task_" + "0123456789abcdef" * 3 + " is an id."
    _record(tmp_path, httpx.Response(200, json={"choices": [{"message": {"content": text}}]}))
    assert len(list(tmp_path.glob("*.json"))) == 1
