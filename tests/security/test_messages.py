"""Errors reach CI logs (and ``--junitxml`` files): a message that names a request masks the credentials
in it, wherever the request holds them: a bot token in the path, a key in the query or the body."""

from __future__ import annotations

import random
import string
from pathlib import Path

import httpx
import pytest

from httpx_cassette import (
    CassetteFormatError,
    CassetteMiss,
    CassetteSecretError,
    CassetteTransport,
    NetworkBlocked,
)
from httpx_cassette.intercept.session import HostFilter, NetworkBlock

_RANDOM = random.Random(7)


def _chars(n: int) -> str:
    return "".join(_RANDOM.choice(string.ascii_letters + string.digits) for _ in range(n))


KEY = "sk-proj-" + _chars(48)
BOT = "7123456789:AAH" + _chars(32)


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def test_a_replay_miss_masks_the_credentials_of_the_request(tmp_path: Path) -> None:
    upstream = httpx.MockTransport(_ok)
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post("https://api.telegram.org/botTOKEN/sendMessage", json={"text": "hello"})
    with (
        pytest.raises(CassetteMiss) as info,
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
    ):
        client.post(f"https://api.telegram.org/bot{BOT}/sendMessage", json={"text": f"hello {KEY}"})
    message = str(info.value)
    assert BOT[11:] not in message
    assert KEY not in message
    assert "sk-pro…(56 chars)" in message  # masked as findings are
    assert "sendMessage" in message  # the rest of the request is still named


def test_a_miss_masks_a_secret_named_value_a_file_holds(tmp_path: Path) -> None:
    """A hand-written (or another tool's) file may hold a credential under its name, in a query parameter
    or a body field, in no known format: the difference shown masks it by its name."""
    secret = "3f" * 16
    file = '{"version": 1, "request": {"method": "POST", "url": "https://api.test/v1/x?api-key=%s",'
    file += ' "headers": {"content-type": "application/json"}, "body": {"password": "%s", "n": 1}},'
    file += ' "responses": [{"status": 200, "headers": {}, "body": {}}]}'
    (tmp_path / "hand.json").write_text(file % (secret, secret))
    with (
        pytest.raises(CassetteMiss) as info,
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
    ):
        client.post("https://api.test/v1/x?api-key=other", json={"password": "other-one", "n": 2})
    message = str(info.value)
    assert secret not in message
    assert 'query api-key: "3f3f3f…(32 chars)"' in message
    assert 'body password: "3f3f3f…(32 chars)"' in message
    assert "body n: 1 → 2" in message


@pytest.mark.parametrize(
    "url", [f"https://api.test/v1/search?q={KEY}", f"https://api.telegram.org/bot{BOT}/getMe"]
)
def test_a_refusal_to_record_masks_the_request_it_names(tmp_path: Path, url: str) -> None:
    upstream = httpx.MockTransport(_ok)
    with (
        pytest.raises(CassetteSecretError) as info,
        httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client,
    ):
        client.get(url)
    assert KEY not in str(info.value)
    assert BOT[11:] not in str(info.value)
    assert not list(tmp_path.glob("*.json"))


def test_a_blocked_request_is_named_masked() -> None:
    # What --cassette-block-network raises for a request no cassette serves.
    block = NetworkBlock(HostFilter(), "--cassette-block-network")
    request = httpx.Request("GET", f"https://api.telegram.org/bot{BOT}/getMe?key={KEY}")
    with pytest.raises(NetworkBlocked) as info:  # raised before the real transport connects
        block.send(request, httpx.HTTPTransport().handle_request)
    assert BOT[11:] not in str(info.value)
    assert KEY not in str(info.value)


_PASSWORD = "Hunter2" + "".join(_RANDOM.choice(string.ascii_letters) for _ in range(12))
REFUSED_BODIES = {
    "connection string": {"json": {"conn": f"Server=db;User Id=sa;Password={_PASSWORD};"}},
    "JSON pair in text": {
        "content": f'config: "password": "{_PASSWORD}"',
        "headers": {"content-type": "text/plain"},
    },
    "nested form": {
        "content": f"q=access_token%3D{_PASSWORD}xyz",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
}


@pytest.mark.parametrize("request_kwargs", REFUSED_BODIES.values(), ids=list(REFUSED_BODIES))
def test_a_miss_prints_nothing_recording_would_refuse_to_write(
    tmp_path: Path, request_kwargs: dict[str, object]
) -> None:
    upstream = httpx.MockTransport(_ok)
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post("https://api.test/v1/x", json={"other": 1})
        with pytest.raises(CassetteSecretError):
            client.post("https://api.test/v1/x", **request_kwargs)  # type: ignore[arg-type]
    with (
        pytest.raises(CassetteMiss) as info,
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
    ):
        client.post("https://api.test/v1/x", **request_kwargs)  # type: ignore[arg-type]
    assert _PASSWORD not in str(info.value)


def test_a_broken_file_is_named_with_its_escapes_shown_not_sent(tmp_path: Path) -> None:
    """A committed file name holding terminal escapes (set the clipboard, erase the line) reaches the
    terminal in pytest's failure line: it is written escaped."""
    (tmp_path / "\x1b]52;c;ZXZpbA==\x07\x1b[2Kpost-x.json").write_text("{not json")
    with (
        pytest.raises(CassetteFormatError) as info,
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
    ):
        client.post("https://api.test/v1/x", json={})
    assert "\x1b" not in str(info.value)
    assert "\\x1b]52;c;ZXZpbA==\\x07" in str(info.value)
