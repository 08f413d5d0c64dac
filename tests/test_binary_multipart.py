"""Binary answers (audio.speech, files.content) come back byte for byte, large ones from a side file next to
the JSON; multipart uploads (files.create, audio.transcriptions) are keyed without their random boundary,
with file contents hashed and never written. Recorded from the real local server, replayed with it
stopped."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteFormatError, CassetteMiss, CassetteSecretError, CassetteTransport
from tests.roundtrip_helpers import API_KEY, dump, record_then_replay, record_then_replay_async
from tests.servers.openai_app import create_app
from tests.servers.runner import LiveServer

BIG = 200_000  # over the 64 KiB default


def client(lib: ModuleType, transport: CassetteTransport, url: str, **http: Any) -> openai.OpenAI:
    http_client = lib.Client(transport=transport, **http)
    return openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, http_client=http_client, max_retries=0)


def speech(c: openai.OpenAI, n_bytes: int | None = None, text: str = "hello") -> bytes:
    headers = {"x-mock-n-bytes": str(n_bytes)} if n_bytes is not None else None
    return c.audio.speech.create(model="tts-1", voice="alloy", input=text, extra_headers=headers).content


def only_json(path: Path) -> dict[str, Any]:
    [file] = path.glob("*.json")
    data: dict[str, Any] = json.loads(file.read_text())
    return data


# ------------------------------------------------------------------------------------------- binary


def test_small_binary_is_inline_and_exact(tmp_path: Path, httpx_lib: ModuleType) -> None:
    rt = record_then_replay(tmp_path, create_app(), lambda t, url: speech(client(httpx_lib, t, url)))
    assert len(rt.live) == 256 * len("hello")
    assert rt.replayed == rt.live
    stored = only_json(tmp_path)["responses"][0]
    assert stored["headers"]["content-type"] == "audio/mpeg"
    assert "body_file" not in stored
    assert len(stored["base64"]) > 1000
    assert list(tmp_path.glob("*.bin")) == []


def test_large_binary_goes_to_a_side_file(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx_lib, transport, url)
        headers = {"x-mock-n-bytes": str(BIG)}
        with c.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="long", extra_headers=headers
        ) as response:
            return b"".join(response.iter_bytes()), response.headers["content-type"], response.request_id

    rt = record_then_replay(tmp_path, create_app(), call)
    audio, content_type, request_id = rt.live
    assert len(audio) == BIG
    assert content_type == "audio/mpeg"
    assert rt.replayed == rt.live
    [json_file] = tmp_path.glob("*.json")
    [side] = tmp_path.glob("*.bin")
    assert side.name == f"{json_file.stem}.0.bin"
    assert side.read_bytes() == audio
    stored = json.loads(json_file.read_text())["responses"][0]
    assert stored["body_file"] == side.name
    assert "base64" not in stored
    assert stored["headers"]["x-request-id"] == request_id
    assert json_file.stat().st_size < 2000
    assert len(rt.replayer.cassette.all_recorded()) == 1  # the store lists JSON files only


async def test_large_binary_async(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> bytes:
        c = openai.AsyncOpenAI(
            base_url=url + "/v1", api_key=API_KEY, http_client=httpx.AsyncClient(transport=transport)
        )
        answer = await c.audio.speech.create(
            model="tts-1", voice="nova", input="async", extra_headers={"x-mock-n-bytes": str(BIG)}
        )
        return answer.content

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert len(rt.live) == BIG
    assert rt.replayed == rt.live
    assert len(list(tmp_path.glob("*.bin"))) == 1


@pytest.mark.parametrize(("limit", "size", "side_files"), [(1000, 1280, 1), (BIG, BIG, 0), (BIG - 1, BIG, 1)])
def test_inline_limit_is_configurable(tmp_path: Path, limit: int, size: int, side_files: int) -> None:
    def call(transport: CassetteTransport, url: str) -> bytes:
        return speech(client(httpx, transport, url), size)

    rt = record_then_replay(tmp_path, create_app(), call, max_inline_bytes=limit)
    assert len(rt.live) == size
    assert rt.replayed == rt.live
    assert len(list(tmp_path.glob("*.bin"))) == side_files


def test_repeats_get_one_side_file_each_and_rerecording_drops_stale_ones(tmp_path: Path) -> None:
    def twice(transport: CassetteTransport, url: str) -> list[bytes]:
        c = client(httpx, transport, url)
        return [speech(c, BIG), speech(c, BIG)]

    rt = record_then_replay(tmp_path, create_app(), twice)
    assert rt.replayed == rt.live
    [json_file] = tmp_path.glob("*.json")
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == [
        f"{json_file.stem}.0.bin",
        f"{json_file.stem}.1.bin",
    ]

    rt = record_then_replay(tmp_path, create_app(), lambda t, url: speech(client(httpx, t, url), BIG))
    assert rt.replayed == rt.live
    assert [p.name for p in tmp_path.glob("*.bin")] == [f"{json_file.stem}.0.bin"]
    assert [r["body_file"] for r in only_json(tmp_path)["responses"]] == [f"{json_file.stem}.0.bin"]


def test_a_missing_side_file_is_a_clear_error(tmp_path: Path) -> None:
    rt = record_then_replay(tmp_path, create_app(), lambda t, url: speech(client(httpx, t, url), BIG))
    assert len(rt.live) == BIG
    [side] = tmp_path.glob("*.bin")
    [json_file] = tmp_path.glob("*.json")
    side.unlink()
    c = client(httpx, CassetteTransport(tmp_path, mode="replay"), "http://127.0.0.1:9")
    with pytest.raises(CassetteFormatError) as caught:
        speech(c, BIG)
    assert str(caught.value) == (
        f"broken cassette file {json_file}: its body file {side.name} is missing from {tmp_path}: "
        "restore it, or re-record"
    )


def test_a_side_file_outside_the_cassette_is_refused(tmp_path: Path) -> None:
    record_then_replay(tmp_path, create_app(), lambda t, url: speech(client(httpx, t, url), BIG))
    [json_file] = tmp_path.glob("*.json")
    data = json.loads(json_file.read_text())
    data["responses"][0]["body_file"] = "../elsewhere.bin"
    json_file.write_text(json.dumps(data))
    c = client(httpx, CassetteTransport(tmp_path, mode="replay"), "http://127.0.0.1:9")
    with pytest.raises(
        CassetteFormatError, match=r"body_file '\.\./elsewhere\.bin' must be a plain file name in"
    ):
        speech(c, BIG)


# ---------------------------------------------------------------------------------------- multipart

SECRET = b"contents-that-must-never-reach-the-cassette\x00\xff\xfe"


def test_upload_then_content_round_trip(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx_lib, transport, url)
        uploaded = c.files.create(file=("data.bin", SECRET, "application/octet-stream"), purpose="user_data")
        return dump(uploaded), c.files.content(uploaded.id).content, dump(c.files.retrieve(uploaded.id))

    rt = record_then_replay(tmp_path, create_app(), call)
    uploaded, content, retrieved = rt.live
    assert content == SECRET
    assert retrieved == uploaded
    assert uploaded["bytes"] == len(SECRET)
    assert rt.replayed == rt.live
    upload_file = next(f for f in rt.files() if f["request"]["method"] == "POST")
    text = json.dumps(upload_file)
    assert "contents-that-must-never" not in text
    file_part = next(p for p in upload_file["request"]["multipart"] if p["name"] == "file")
    assert file_part == {
        "name": "file",
        "filename": "data.bin",
        "content_type": "application/octet-stream",
        "sha256": hashlib.sha256(SECRET).hexdigest(),
        "size": len(SECRET),
    }
    assert {"name": "purpose", "value": "user_data"} in upload_file["request"]["multipart"]


def test_upload_is_keyed_without_its_boundary_but_with_its_contents(tmp_path: Path) -> None:
    boundaries: list[str] = []

    def note_boundary(request: httpx.Request) -> None:
        boundaries.append(request.headers["content-type"].split("boundary=")[1])

    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx, transport, url, event_hooks={"request": [note_boundary]})
        return dump(c.audio.transcriptions.create(model="whisper-1", file=("talk.wav", b"RIFF-audio")))

    rt = record_then_replay(tmp_path, create_app(), call)
    assert rt.live["text"] == (
        f"Transcript of talk.wav: 10 bytes, sha256 {hashlib.sha256(b'RIFF-audio').hexdigest()[:12]}"
    )
    assert rt.replayed == rt.live
    assert len(set(boundaries)) == 2, "the replayed request had a boundary of its own"

    c = client(httpx, CassetteTransport(tmp_path, mode="replay"), "http://127.0.0.1:9")
    with pytest.raises(CassetteMiss, match="no recording for POST /v1/audio/transcriptions"):
        c.audio.transcriptions.create(model="whisper-1", file=("talk.wav", b"RIFF-other"))


async def test_transcription_formats_async(tmp_path: Path, httpx_lib: ModuleType) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        c = openai.AsyncOpenAI(
            base_url=url + "/v1", api_key=API_KEY, http_client=httpx_lib.AsyncClient(transport=transport)
        )
        as_json = await c.audio.transcriptions.create(model="whisper-1", file=("a.mp3", b"ID3" * 500))
        as_text = await c.audio.transcriptions.create(
            model="whisper-1", file=("a.mp3", b"ID3" * 500), response_format="text"
        )
        return dump(as_json), as_text

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    as_json, as_text = rt.live
    assert as_text == as_json["text"] + "\n"
    assert as_json["usage"] == {"seconds": 2.0, "type": "duration"}
    assert rt.replayed == rt.live


def test_record_missing_keeps_earlier_side_files_and_adds_new_ones(tmp_path: Path) -> None:
    with LiveServer(create_app()) as server:
        first = speech(client(httpx, CassetteTransport(tmp_path, mode="record"), server.url), BIG)
        transport = CassetteTransport(tmp_path, mode="record-missing")
        c = client(httpx, transport, server.url)
        again, more = (
            speech(c, BIG),
            speech(c, BIG),
        )  # the first replays from its side file; the second records
        url = server.url
    assert again == first == more
    assert transport.cassette.played == [(transport.cassette.recorded[0][0], 0)]
    [json_file] = tmp_path.glob("*.json")
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == [
        f"{json_file.stem}.0.bin",
        f"{json_file.stem}.1.bin",
    ]
    replay = client(httpx, CassetteTransport(tmp_path, mode="replay", strict_repeats=True), url)
    assert [speech(replay, BIG), speech(replay, BIG)] == [first, more]


def _random_audio(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize("size", [1 << 18, 1 << 20])
@pytest.mark.parametrize("seed", range(3))
def test_random_binary_records_and_replays_byte_for_byte(tmp_path: Path, seed: int, size: int) -> None:
    # Random bytes hold every short word somewhere: their base64, read as a form, once had a "field"
    # 350,000 characters long whose name held "Pwd", and the recording was refused as a credential.
    audio = _random_audio(seed, size)
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(200, content=audio, headers={"content-type": "audio/mpeg"})
    )
    url = "https://api.openai.com/v1/audio/speech"
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as live:
        assert live.post(url, json={"input": "hi"}).content == audio
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as replay:
        assert replay.post(url, json={"input": "hi"}).content == audio


def test_a_credential_between_the_bytes_of_a_binary_body_is_still_refused(tmp_path: Path) -> None:
    key = "sk-" + "proj-" + "A1b2C3d4" * 6
    line = b"\x00\x01OPENAI_API_KEY=" + key.encode() + b"\x00"
    blob = _random_audio(7, 1 << 16) + line + _random_audio(8, 99)
    headers = {"content-type": "application/octet-stream"}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, content=blob, headers=headers))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as live, pytest.raises(CassetteSecretError):
        live.get("https://api.example.com/v1/files/f/content")
    assert not list(tmp_path.rglob("*.json"))
