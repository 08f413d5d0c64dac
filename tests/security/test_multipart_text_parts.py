"""A multipart text field (a part with no filename) is stored and checked as a text body of its
content-type is: UTF-8 text as its ``value``, anything else (another charset, NULs, invalid UTF-8) as its
bytes in ``base64``, read in the charset it declares. The rules of a text body apply to it, the lines
of a .env (``export DB_PASSWORD=...``) included: recording refuses a credential in one (and sends
nothing), ``httpx-cassette scan`` flags one in a file written by hand or by a version that read every
field as UTF-8. An ordinary UTF-8 field is stored and keyed as before. Fake credentials are built at run
time."""

from __future__ import annotations

import base64
import io
import json
import secrets
import string
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from httpx_cassette import CassetteMiss, CassetteSecretError, CassetteTransport, use_cassette
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from tests.security.placements import b64, cassette, openai_key

URL = "https://api.example.com/v1/upload"
UTF16 = "text/plain; charset=utf-16le"


def _password() -> str:
    """A password with no known format: only the line that sets it says what it is."""
    return "correct-horse-battery-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def _dotenv(password: str) -> str:
    return f"# app settings (Köln)\nexport DB_PASSWORD={password}\nDEBUG=1\n"


class Upstream:
    """The server: counts what reaches it, answers every request alike."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        return httpx.Response(200, json={"ok": True})


def _post(transport: httpx.BaseTransport, files: dict[str, Any], data: dict[str, str] | None = None) -> Any:
    with httpx.Client(transport=transport) as client:
        return client.post(URL, files=files, data=data).json()


def _record(path: Path, files: dict[str, Any], **options: Any) -> Upstream:
    upstream = Upstream()
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(upstream), **options)
    _post(transport, files)
    return upstream


def _refused(path: Path, files: dict[str, Any]) -> CassetteSecretError:
    upstream = Upstream()
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(upstream))
    with pytest.raises(CassetteSecretError) as refused:
        _post(transport, files)
    assert upstream.seen == 0  # a refused request is not sent
    assert list(path.glob("*.json")) == []
    return refused.value


def _stored_parts(path: Path) -> list[dict[str, Any]]:
    [file] = path.glob("*.json")
    parts: list[dict[str, Any]] = json.loads(file.read_text())["request"]["multipart"]
    return parts


def _scan(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["scan", str(path)], Console(out, err, fancy=False))
    return status, err.getvalue()


def _plant(path: Path, *parts: dict[str, Any]) -> Path:
    path.mkdir()
    request = {"url": URL, "headers": {"content-type": "multipart/form-data"}, "multipart": list(parts)}
    (path / "post-v1-upload-000000000000.json").write_text(json.dumps(cassette(request=request)))
    return path


# -- recording ------------------------------------------------------------------------------------

KEY_FIELDS = {
    "utf-16le, declared": lambda text: (None, text.encode("utf-16-le"), UTF16),
    "utf-16le, no charset (its NULs say it)": lambda text: (None, text.encode("utf-16-le"), "text/plain"),
    "utf-16, byte-order mark": lambda text: (None, text.encode("utf-16"), "text/plain"),
    "utf-32be, declared": lambda text: (None, text.encode("utf-32-be"), "text/plain; charset=utf-32be"),
}


@pytest.mark.parametrize("field", KEY_FIELDS.values(), ids=list(KEY_FIELDS))
def test_a_key_in_a_field_of_another_charset_is_refused(tmp_path: Path, field: Any) -> None:
    key = openai_key()
    error = _refused(tmp_path, {"purpose": (None, b"batch"), "env": field(f"OPENAI_API_KEY={key}\n")})
    assert "$.request.multipart[1].base64: OpenAI API key" in str(error)


def test_a_utf16_field_sent_by_requests_is_refused(tmp_path: Path) -> None:
    key = openai_key()
    env16 = f"OPENAI_API_KEY={key}\n".encode("utf-16-le")
    with pytest.raises(CassetteSecretError), use_cassette(tmp_path, mode="record"):  # refused before it goes
        requests.post("http://127.0.0.1:9/upload", files={"env": (None, env16, UTF16)}, timeout=5)
    assert list(tmp_path.glob("*.json")) == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/plain; charset=latin-1"])
def test_a_dotenv_field_is_refused_as_the_same_text_body_is(tmp_path: Path, content_type: str | None) -> None:
    password = _password()
    codec = "latin-1" if content_type and "latin-1" in content_type else "utf-8"
    env = _dotenv(password).encode(codec)
    body = CassetteTransport(tmp_path / "body", mode="record", inner=httpx.MockTransport(Upstream()))
    with httpx.Client(transport=body) as client, pytest.raises(CassetteSecretError):
        client.post(URL, content=env, headers={"content-type": content_type or "text/plain"})
    field = (None, env, content_type) if content_type else (None, env)
    error = _refused(tmp_path / "field", {"env": field})
    assert "value set in a line of text" in str(error)
    assert password not in str(error)


def test_a_latin1_field_is_stored_as_its_bytes_and_replays(tmp_path: Path) -> None:
    account = "acct-" + secrets.token_hex(6)
    text = f"Grüße aus Köln, Konto {account}".encode("latin-1")
    files = {"note": (None, text, "text/plain; charset=latin-1")}
    _record(tmp_path, files, placeholders={"<ACCOUNT>": account})
    [part] = _stored_parts(tmp_path)
    assert set(part) == {"name", "content_type", "base64"}  # no lossy `value`: the bytes, exactly
    assert base64.b64decode(part["base64"]) == "Grüße aus Köln, Konto <ACCOUNT>".encode("latin-1")
    replay = CassetteTransport(tmp_path, mode="replay", placeholders={"<ACCOUNT>": account})
    assert _post(replay, files) == {"ok": True}
    with pytest.raises(CassetteMiss):  # another byte is another request (it was one U+FFFD before)
        _post(replay, {"note": (None, text.replace(b"\xfc", b"\xfd"), "text/plain; charset=latin-1")})


def test_a_secret_named_field_of_another_charset_is_redacted_and_scanned(tmp_path: Path) -> None:
    password = _password()
    files = {"password": (None, password.encode("utf-16-le"), UTF16)}
    _record(tmp_path / "recorded", files)
    [part] = _stored_parts(tmp_path / "recorded")
    assert part["value"] == "REDACTED"
    assert "base64" not in part
    assert _post(CassetteTransport(tmp_path / "recorded", mode="replay"), files) == {"ok": True}
    planted = {"name": "password", "content_type": UTF16, "base64": b64(password.encode("utf-16-le"))}
    status, report = _scan(_plant(tmp_path / "planted", planted))
    assert status == 1
    assert "$.request.multipart[0].base64: value of a field named 'password'" in report


def test_an_ordinary_utf8_field_keeps_its_value_and_its_key(tmp_path: Path) -> None:
    """Not a new behaviour: what a field of UTF-8 text was stored and keyed as, it still is (the file
    name holds the key, as versions before this one computed it)."""
    files = {
        "purpose": (None, b"fine-tune"),
        "note": (None, "héllo wörld ✓".encode(), "text/plain; charset=utf-8"),
        "file": ("a.jsonl", b'{"x": 1}\n', "application/jsonl"),
    }
    _record(tmp_path, files)
    [file] = tmp_path.glob("*.json")
    assert file.name == "post-upload-3d4ff5381378.json"
    assert _stored_parts(tmp_path)[:2] == [
        {"name": "purpose", "value": "fine-tune"},
        {"name": "note", "content_type": 'text/plain; charset="utf-8"', "value": "héllo wörld ✓"},
    ]
    assert _post(CassetteTransport(tmp_path, mode="replay"), files) == {"ok": True}
    assert _scan(tmp_path) == (0, "")


# -- scan ------------------------------------------------------------------------------------------


def _nul_spaced(text: str) -> str:
    """UTF-16LE read as UTF-8: how versions that decoded every field as UTF-8 stored it."""
    return text.encode("utf-16-le").decode("utf-8")


PLANTED = {
    "a key in UTF-16, stored as NUL-spaced text": lambda key, password: {
        "name": "env",
        "content_type": UTF16,
        "value": _nul_spaced(f"OPENAI_API_KEY={key}\n"),
    },
    "a .env line in a text field": lambda key, password: {"name": "env", "value": _dotenv(password)},
    "a key in UTF-16 bytes among CJK text (no NULs to sniff), charset declared": lambda key, password: {
        "name": "note",
        "content_type": UTF16,
        "base64": b64(f"{'漢字' * 40} {key} {'漢字' * 40}".encode("utf-16-le")),
    },
    "a .env line in EBCDIC bytes, charset declared": lambda key, password: {
        "name": "env",
        "content_type": "text/plain; charset=ibm500",
        "base64": b64(_dotenv(password).encode("cp500")),
    },
}


@pytest.mark.parametrize("plant", PLANTED.values(), ids=list(PLANTED))
def test_scan_flags_a_credential_in_a_field_written_by_hand(tmp_path: Path, plant: Any) -> None:
    key, password = openai_key(), _password()
    part = plant(key, password)
    status, report = _scan(_plant(tmp_path / "hand", {"name": "purpose", "value": "batch"}, part))
    assert status == 1
    assert "$.request.multipart[1]." in report
    assert key not in report
    assert password not in report
