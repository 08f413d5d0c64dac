"""A JSON object key is a string like any other: a map keyed by registry URLs, webhook URLs or tokens
holds its credentials in its keys. Every rule a value gets applies to a key, and a key found to be a
credential is masked in the paths of what lies below it (a message and `scan`'s output print paths)."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import aws_key_id, cassette, hex32, token


def _chars(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def _registry(secret: str) -> str:
    return f"https://admin:{secret}@registry.example.com/"


def _webhook(secret: str) -> str:
    return f"https://hooks.slack.com/services/T0{_chars(8).upper()}/B0{_chars(8).upper()}/{secret}"


def _query(secret: str) -> str:
    return f"https://api.example.com/v1/x?api_key={secret}"


def _connection(secret: str) -> str:
    return f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={secret};"


KEYS: dict[str, Callable[[str], str]] = {
    "URL password": _registry,
    "Slack webhook": _webhook,
    "secret query parameter": _query,
    "connection string": _connection,
}


@pytest.mark.parametrize("make", KEYS.values(), ids=list(KEYS))
def test_a_credential_in_a_key_is_refused_and_flagged(tmp_path: Path, make: Callable[[str], str]) -> None:
    secret = token()[:24]
    body = {"auths": {make(secret): {"email": "ci@example.com"}}}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    transport = CassetteTransport(tmp_path / "recorded", mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError) as refused:
        client.get("https://api.example.com/v1/config")
    assert secret not in str(refused.value)
    assert not (tmp_path / "recorded").exists() or not any((tmp_path / "recorded").iterdir())
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "x.json").write_text(json.dumps(cassette(response={"body": body})))
    assert scan_directory(planted)


def test_a_key_that_is_a_credential_is_masked_in_the_paths_below_it(tmp_path: Path) -> None:
    github = "ghp" + "_" + _chars(36)
    aws = aws_key_id()
    body = {"tokens": {github: {"aws": aws, "note": hex32()}}}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    transport = CassetteTransport(tmp_path / "recorded", mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError) as refused:
        client.get("https://api.example.com/v1/tokens")
    message = str(refused.value)
    assert github not in message
    assert aws not in message
    assert "redact_json_paths" not in message  # no path names a masked key
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "x.json").write_text(json.dumps(cassette(response={"body": body})))
    shown = "\n".join(f"{finding} {finding.remedy()}" for finding in scan_directory(planted))
    assert github not in shown
    assert aws not in shown
