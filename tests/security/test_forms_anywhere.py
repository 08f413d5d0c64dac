"""A string that reads as a form (``access_token=...&expires_in=3600``) is judged by its fields wherever it
stands: a stream event, an NDJSON line, a multipart text field; recording and ``scan`` alike."""

from __future__ import annotations

import contextlib
import random
import string
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory

TOKEN = "".join(random.Random(3).choice(string.ascii_letters + string.digits) for _ in range(40))


def _record(path: Path, content_type: str, body: bytes) -> None:
    answer = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": content_type}, content=body)
    )
    with httpx.Client(transport=CassetteTransport(path, mode="record", inner=answer)) as client:
        client.get("https://api.test/v1/stream").read()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/event-stream", f"data: access_token={TOKEN}&token_type=bearer&expires_in=3600\n\n"),
        ("application/x-ndjson", f"access_token={TOKEN}&token_type=bearer\n"),
    ],
)
def test_a_stream_event_that_is_a_form_is_judged_by_its_fields(
    tmp_path: Path, content_type: str, body: str
) -> None:
    with pytest.raises(CassetteSecretError):
        _record(tmp_path / "recorded", content_type, body.encode())
    assert not list((tmp_path / "recorded").glob("*.json"))
    # The same stream written by hand: scan reads it the same way.
    harmless = body.replace(TOKEN, "REDACTED")
    _record(tmp_path / "hand", content_type, harmless.encode())
    [file] = (tmp_path / "hand").glob("*.json")
    file.write_text(file.read_text().replace("access_token=REDACTED", f"access_token={TOKEN}"))
    [finding] = scan_directory(tmp_path / "hand")
    assert "access_token" in finding.path


def test_a_multipart_field_that_is_a_form_is_redacted_and_scanned(tmp_path: Path) -> None:
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=answer)) as client:
        payload = f"grant_type=refresh_token&refresh_token={TOKEN}"
        client.post("https://api.test/upload", data={"payload": payload}, files={"f": ("a.txt", b"hi")})
    [file] = tmp_path.glob("*.json")
    assert TOKEN not in file.read_text()
    assert "refresh_token=REDACTED" in file.read_text()
    file.write_text(file.read_text().replace("refresh_token=REDACTED", f"refresh_token={TOKEN}"))
    [finding] = scan_directory(tmp_path)  # once, though the walk and the multipart check both reach it
    assert finding.path.endswith(".multipart[0].value['refresh_token']")


def test_ordinary_text_with_equals_signs_is_left_alone(tmp_path: Path) -> None:
    body = b"data: x=1&y=2&model=gpt-4o\n\ndata: padding==\n\n"
    _record(tmp_path, "text/event-stream", body)
    assert scan_directory(tmp_path) == []


_ACCOUNT_KEY = "AccountName%3Dacct%3BAccountKey%3D" + TOKEN + "%3D%3D%3B"
NESTED = {
    "nested form": f"q=access_token%3D{TOKEN}%26x%3D1",
    "connection string in a form value": f"cfg={_ACCOUNT_KEY}",
    "JSON pair in a form value": f"q=%22password%22:%22{TOKEN}%22,%22n%22:1",
    "JSON object in a form value": f"q=%7B%22password%22:%22{TOKEN}%22%7D",
    "form three deep": "a=" + "b%3D" + "c%253D" + f"access_token%25253D{TOKEN}",
}


@pytest.mark.parametrize("body", NESTED.values(), ids=list(NESTED))
@pytest.mark.parametrize("content_type", ["text/plain", "text/event-stream"])
def test_what_a_forms_values_hold_is_judged_as_the_scanner_judges_it(
    tmp_path: Path, body: str, content_type: str
) -> None:
    """The quick check before the full one (the prefilter) reads a form's values as the scanner does, at
    any depth: recording refuses (or redacts) what `scan` would flag on disk."""
    wire = f"data: {body}\n\n" if content_type == "text/event-stream" else body
    recorded = tmp_path / "recorded"
    with contextlib.suppress(CassetteSecretError):
        _record(recorded, content_type, wire.encode())
    written = "".join(p.read_text() for p in recorded.glob("*.json")) if recorded.exists() else ""
    assert TOKEN not in written
    assert not recorded.exists() or scan_directory(recorded) == []
