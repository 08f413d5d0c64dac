"""Readings inside readings (a form in a form's value, JSON in a string...) are bounded: past the bound
what is inside is reported as not checked, never called clean, and never turns the scan of a whole file
into a text-only one. A hostile ``a=a=a=...`` once ran the scanner out of stack; ``scan`` then read the
file as plain lines and called a gzip-compressed key in the same file clean."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport

KEY = "sk-proj-" + "Zq8xK2mP9vL4nR7tW1yB5cD3fG6hJ0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _scan(directory: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "httpx_cassette", "scan", str(directory)], capture_output=True, text=True
    )
    return done.returncode, done.stdout + done.stderr


def _planted(directory: Path, request_text: str) -> None:
    coded = base64.b64encode(gzip.compress(json.dumps({"note": f"use {KEY}"}).encode())).decode()
    directory.mkdir()
    (directory / "post-x-000000000000.json").write_text(
        json.dumps(
            {
                "version": 1,
                "request": {
                    "method": "POST",
                    "url": "https://api.example.com/v1/x",
                    "headers": {"content-type": "text/plain"},
                    "text": request_text,
                },
                "responses": [
                    {
                        "status": 200,
                        "headers": {"content-type": "application/json", "content-encoding": "gzip"},
                        "base64": coded,
                    }
                ],
            }
        )
    )


def test_a_deeply_nested_value_does_not_hide_the_rest_of_the_file(tmp_path: Path) -> None:
    _planted(tmp_path / "hostile", "a=" * 600)
    code, said = _scan(tmp_path / "hostile")
    assert code == 1
    assert "OpenAI API key" in said  # the compressed key is still found: the file was read as JSON
    assert "1 possible secret found, 1 place not checked" in said  # the key once: one reading of it
    assert "read inside 24 others" in said


def test_a_value_nested_past_the_bound_is_refused_by_recording_as_not_checked(tmp_path: Path) -> None:
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client:
        with pytest.raises(CassetteSecretError) as refused:
            client.post("https://api.example.com/v1/x", content="a=" * 600, headers=FORM)
        message = str(refused.value)
        assert "cannot read through" in message
        assert "not checked" in message
        assert "looks like a credential" not in message  # nothing was found: it was not read
        assert list(tmp_path.iterdir()) == []
        # A form nested as deep as real traffic nests is read through and recorded.
        assert client.post("https://api.example.com/v1/x", content="a=" * 6, headers=FORM).status_code == 200
    assert len(list(tmp_path.glob("*.json"))) == 1
