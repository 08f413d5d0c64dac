"""A file of settings (a .env, YAML, INI) inside any string, as an agent's tool result carries it: a line
that sets a secret name to a token is refused wherever the string sits, and ``httpx-cassette scan``
flags it. A short word under a sure name (``password: changeme``) is what answers show: it records in
every place alike (it used to be refused only under a JSON key named ``text``).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main


def token(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))


PLACES = {
    "openai tool message": lambda text: {
        "messages": [{"role": "tool", "tool_call_id": "c1", "content": text}]
    },
    "anthropic tool_result": lambda text: {
        "messages": [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": text}]}
        ]
    },
    "anthropic text block": lambda text: {
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]
    },
    "a field of any name": lambda text: {"input": {"file": text}},
}
FILES = {
    ".env": "OPENAI_BASE=https://api.example.com\nexport DB_PASSWORD={}\nDEBUG=1\n",
    "yaml": "database:\n  host: db.internal\n  password: {}\n",
    "ini": "[client]\nuser = app\napi_key = {}\n",
}


def record(directory: Path, body: dict[str, Any]) -> None:
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(directory, mode="record", inner=upstream)) as client:
        client.post("https://api.example.com/v1/messages", json=body)


@pytest.mark.parametrize("file", list(FILES))
@pytest.mark.parametrize("place", list(PLACES))
def test_a_settings_file_in_any_string_is_refused_and_flagged(tmp_path: Path, place: str, file: str) -> None:
    secret = token(len(place + file))
    body = PLACES[place](FILES[file].format(secret))
    with pytest.raises(CassetteSecretError) as refused:
        record(tmp_path / "recorded", body)
    assert secret not in str(refused.value)
    assert not list((tmp_path / "recorded").rglob("*.json"))
    cassette = {
        "version": 1,
        "request": {"method": "POST", "url": "https://api.example.com/v1/m", "body": body},
    }
    (tmp_path / "by_hand").mkdir()
    (tmp_path / "by_hand" / "x.json").write_text(json.dumps({**cassette, "responses": [{"status": 200}]}))
    assert cli_main(["scan", str(tmp_path / "by_hand")]) == 1


@pytest.mark.parametrize("place", list(PLACES))
def test_an_example_with_a_short_word_records_in_every_place(tmp_path: Path, place: str) -> None:
    record(tmp_path, PLACES[place]("Like this:\ndatabase:\n  user: app\n  password: changeme\n"))
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert cli_main(["scan", str(tmp_path)]) == 0
