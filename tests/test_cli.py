# ruff: noqa: E501 - expected output is pinned verbatim, one printed line per source line
"""The ``httpx-cassette`` command: ls, show, verify, scan, diff, prune, convert.

Streams come from real recordings of the local OpenAI-wire server (chat with tools and usage, the
Responses API); exact-output tests use small hand-written files whose every byte is known.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import msgspec
import openai
import pytest

from httpx_cassette import CassetteTransport, Meta, Request, Response
from httpx_cassette.cli import main
from httpx_cassette.cli.console import PROGRESS_FROM, Console
from httpx_cassette.cli.inspect import timing_of, transcript_of
from httpx_cassette.cli.show import timing_lines
from httpx_cassette.model.cassette import CassetteFile, Event
from httpx_cassette.storage.codec import encode_file
from tests.servers.openai_app import create_app
from tests.servers.runner import LiveServer

ROOT = Path(__file__).resolve().parent.parent
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal (for progress output)."""

    def isatty(self) -> bool:
        return True


def run(*argv: str, err: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), err or io.StringIO()
    status = main(list(argv), Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def write(path: Path, cassette: CassetteFile) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_file(cassette))
    return path


def chunk(content: str | None = None, finish: str | None = None, **fields: Any) -> Event:
    delta = {} if content is None else {"content": content}
    choices = [{"index": 0, "delta": delta, "finish_reason": finish}]
    return Event(data={**fields, "object": "chat.completion.chunk", "choices": choices})


def stream_file(words: list[str], offsets: list[float] | None = None, model: str = "m") -> CassetteFile:
    events = [chunk(w) for w in words] + [chunk(finish="stop")]
    return CassetteFile(
        request=Request(
            method="POST", url="https://api.openai.com/v1/chat/completions", body={"model": model}
        ),
        responses=[
            Response(
                status=200,
                headers={"content-type": "text/event-stream"},
                is_streaming=True,
                body=events,
                done=True,
                elapsed_ms=10.0,
                offsets_ms=offsets if offsets is not None else [12.0 + 5 * i for i in range(len(events) + 1)],
            )
        ],
        meta=Meta(recorded_at="2026-01-02T03:04:05+00:00"),
    )


def models_file(url: str = "https://api.openai.com/v1/models") -> CassetteFile:
    return CassetteFile(
        request=Request(method="GET", url=url),
        responses=[
            Response(
                status=429, headers={"content-type": "application/json"}, body={"error": {"code": "slow"}}
            ),
            Response(status=200, headers={"content-type": "application/json"}, body={"data": []}),
        ],
        meta=Meta(recorded_at="2026-01-01T00:00:00+00:00"),
    )


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Two hand-written files: a 3-word stream and a models list answered 429 then 200."""
    write(
        tmp_path / "cas" / "post-chat-completions-aaaaaaaaaaaa.json", stream_file(["Hello", " big", " world"])
    )
    write(tmp_path / "cas" / "get-models-bbbbbbbbbbbb.json", models_file())
    return tmp_path / "cas"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real recordings from the local server: a chat stream with a tool call and usage, a plain chat
    stream, and a Responses API stream."""
    directory = tmp_path_factory.mktemp("recorded") / "cas"
    with LiveServer(create_app()) as server:
        transport = CassetteTransport(directory, mode="record")
        client = openai.OpenAI(
            base_url=server.base_url, api_key="sk-test", http_client=httpx.Client(transport=transport)
        )
        for _ in client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Paris"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            stream=True,
            stream_options={"include_usage": True},
        ):
            pass
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "tell me"}], stream=True
        ):
            pass
        for _ in client.responses.create(model="gpt-4o-mini", input="hello responses", stream=True):
            pass
    return directory


def the_file(directory: Path, prefix: str, body_text: str) -> Path:
    return next(p for p in directory.glob(f"{prefix}*.json") if body_text in p.read_text())


# -- ls ----------------------------------------------------------------------------------------


def test_ls_lists_one_row_per_interaction(small: Path) -> None:
    stream_size = (small / "post-chat-completions-aaaaaaaaaaaa.json").stat().st_size
    models_size = (small / "get-models-bbbbbbbbbbbb.json").stat().st_size
    status, out, err = run("ls", str(small))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["FILE", "METHOD", "PATH", "STATUS", "STREAM", "SIZE", "RECORDED"]
    assert lines[1].split() == [
        "get-models-bbbbbbbbbbbb.json", "GET", "/v1/models", "429,200", "-", str(models_size),
        "2026-01-01T00:00:00+00:00",
    ]  # fmt: skip
    assert lines[2].split() == [
        "post-chat-completions-aaaaaaaaaaaa.json", "POST", "/v1/chat/completions", "200", "4", "ev",
        str(stream_size), "2026-01-02T03:04:05+00:00",
    ]  # fmt: skip
    assert len(lines) == 3
    assert lines[1].index("GET") == lines[2].index("POST")  # aligned columns


def test_ls_older_than_says_when_every_recording_is_newer(small: Path) -> None:
    # Not "no cassette files", which reads as a wrong path: the filter left every recording out.
    undated = msgspec.structs.replace(models_file("https://api.openai.com/v1/models?undated=1"), meta=Meta())
    write(small / "get-models-cccccccccccc.json", undated)
    assert run("ls", str(small), "--older-than", "9999d") == (
        0,
        "",
        f"no recordings older than 9999d under {small} (3 recordings there, 2 newer, 1 undated (left out))\n",
    )
    assert run("ls", str(small), "--older-than", "9999d", "--json")[:2] == (0, "[]\n")


def test_ls_sorts_and_prints_json(small: Path) -> None:
    status, out, _ = run("ls", str(small), "--sort", "size", "--reverse", "--json")
    rows = json.loads(out)
    assert status == 0
    assert [r["file"] for r in rows] == [
        "post-chat-completions-aaaaaaaaaaaa.json",
        "get-models-bbbbbbbbbbbb.json",
    ]
    assert rows[1] == {
        "file": "get-models-bbbbbbbbbbbb.json",
        "method": "GET",
        "path": "/v1/models",
        "statuses": [429, 200],
        "streaming": False,
        "events": [],
        "responses": 2,
        "size": (small / "get-models-bbbbbbbbbbbb.json").stat().st_size,
        "recorded_at": "2026-01-01T00:00:00+00:00",
    }
    assert rows[0]["events"] == [4]
    assert rows[0]["streaming"] is True
    _, out, _ = run("ls", str(small), "--sort", "recorded", "--json")
    assert [r["recorded_at"][:10] for r in json.loads(out)] == ["2026-01-01", "2026-01-02"]


def test_ls_walks_subdirectories_and_names_broken_files(small: Path) -> None:
    write(small / "test_mod" / "test_x" / "get-models-cccccccccccc.json", models_file())
    (small / "broken.json").write_text("{not json")
    (small / ".post-x.json.123.tmp").write_text("partial")  # an interrupted write: not a cassette
    status, out, err = run("ls", str(small), "--json")
    assert status == 1
    assert [r["file"] for r in json.loads(out)] == [
        "get-models-bbbbbbbbbbbb.json",
        "post-chat-completions-aaaaaaaaaaaa.json",
        "test_mod/test_x/get-models-cccccccccccc.json",
    ]
    assert err.startswith(f"broken cassette file {small / 'broken.json'}: JSON is malformed")


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    assert run("ls", str(tmp_path / "nope")) == (
        2,
        "",
        f"httpx-cassette ls: {tmp_path / 'nope'} does not exist\n",
    )


# -- show --------------------------------------------------------------------------------------


def test_show_assembles_a_tool_call_stream_with_usage(recorded: Path) -> None:
    file = the_file(recorded, "post-chat-completions-", "get_weather")
    status, out, _ = run("show", str(file))
    assert status == 0
    transcript = out.split("\n\n")[-1].splitlines()
    assert transcript[:4] == [
        "tool calls:",
        f'  get_weather({{"city":"Paris","days":1}})  id={transcript[1].rsplit("id=", 1)[1]}',
        "finish reason: tool_calls",
        'usage: {"prompt_tokens":1,"completion_tokens":4,"total_tokens":5,'
        '"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":'
        '{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}',
    ]
    assert transcript[1].rsplit("id=", 1)[1].startswith("call_")
    assert transcript[4].startswith("timing: headers ")
    assert ", first event " in transcript[4]
    assert ", last event " in transcript[4]
    assert out.startswith(f"{file}  (")
    assert "\nPOST http://127.0.0.1:" in out
    assert '\n  "tools": [\n' in out


def test_show_assembles_responses_api_and_chat_text(recorded: Path) -> None:
    responses = the_file(recorded, "post-responses-", "hello responses")
    _, out, _ = run("show", str(responses))
    assert "\ntext:\n  Echo: hello responses\nfinish reason: completed\nusage: {" in out
    chat = the_file(recorded, "post-chat-completions-", "tell me")
    _, out, _ = run("show", str(chat))
    assert "stream of 5 events + [DONE]" in out
    assert "\ntext:\n  Echo: tell me\nfinish reason: stop\ntiming: " in out


def test_show_timing_and_raw_events_of_a_known_file(small: Path) -> None:
    status, out, _ = run("show", "--events", str(small / "post-chat-completions-aaaaaaaaaaaa.json"))
    assert status == 0
    tail = out.split("── response 1 of 1: ")[1]
    assert tail == (
        "200, stream of 4 events + [DONE]\n"
        "content-type: text/event-stream\n"
        "events:\n"
        '  [0] +12.0 ms  {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n'
        '  [1] +17.0 ms  {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" big"},"finish_reason":null}]}\n'
        '  [2] +22.0 ms  {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" world"},"finish_reason":null}]}\n'
        '  [3] +27.0 ms  {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n'
        "  [4] +32.0 ms  [DONE]\n"
        "\n"
        "text:\n"
        "  Hello big world\n"
        "finish reason: stop\n"
        "timing: headers 10.0 ms, first event 12.0 ms, last event 32.0 ms\n"
        "gaps between 4 events: min 5.0 ms, median 5.0 ms, max 5.0 ms\n"
        "  ████\n"
        "longest: 5.0 ms before event 1, 5.0 ms before event 2, 5.0 ms before event 3\n"
    )  # fmt: skip


def test_timing_timeline_shows_where_the_stream_stalled() -> None:
    response = stream_file(
        ["a", "b", "c", "d"], offsets=[100.0, 101.0, 102.0, 402.0, 403.0, 404.0]
    ).responses[0]
    assert timing_lines(timing_of(response), 5) == [
        "timing: headers 10.0 ms, first event 100.0 ms, last event 404.0 ms",
        "gaps between 5 events: min 1.0 ms, median 1.0 ms, max 300.0 ms",
        "  ▁▁█▁▁",
        "longest: 300.0 ms before event 3, 1.0 ms before event 1, 1.0 ms before event 2",
    ]
    assert timing_lines(timing_of(Response(status=200)), 0) == ["timing: not recorded"]


def test_show_non_streaming_repeats_and_failures(small: Path, tmp_path: Path) -> None:
    _, out, _ = run("show", str(small / "get-models-bbbbbbbbbbbb.json"))
    assert out.split("\n", 1)[1] == (
        "\n"
        "GET https://api.openai.com/v1/models\n"
        "\n"
        "── response 1 of 2: 429, application/json\n"
        "content-type: application/json\n"
        "\n"
        "{\n"
        '  "error": {\n'
        '    "code": "slow"\n'
        "  }\n"
        "}\n"
        "\n"
        "── response 2 of 2: 200, application/json\n"
        "content-type: application/json\n"
        "\n"
        "{\n"
        '  "data": []\n'
        "}\n"
    )
    failed = CassetteFile(
        request=Request(method="GET", url="http://x/v1/models"),
        responses=[Response(status=0, error={"type": "ConnectError", "message": "refused"})],  # type: ignore[arg-type]
    )
    _, out, _ = run(
        "show", str(write(tmp_path / "f.json", msgspec.convert(msgspec.to_builtins(failed), CassetteFile)))
    )
    assert out.endswith(
        "── response 1 of 1: no response (the request failed), no body\nfailed: ConnectError: refused\n"
    )


def test_transcript_of_anthropic_messages() -> None:
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "check."}},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city": '}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 30}},
        {"type": "message_stop"},
    ]  # fmt: skip
    transcript = transcript_of([Event(event=e["type"], data=e) for e in events])
    assert transcript.text == "Let me check."
    assert [(c.id, c.name, c.arguments) for c in transcript.tool_calls] == [
        ("toolu_1", "get_weather", '{"city": "Paris"}')
    ]
    assert transcript.finish_reason == "tool_use"
    assert transcript.usage == {"input_tokens": 12, "output_tokens": 30}


def test_show_reports_a_mid_stream_error(tmp_path: Path) -> None:
    cassette = stream_file(["Hi"])
    cassette.responses[0].body = [
        chunk("Hi"),
        Event(data={"error": {"message": "overloaded", "type": "server_error"}}),
    ]
    _, out, _ = run("show", str(write(tmp_path / "e.json", cassette)))
    assert '\nerror in the stream: {"message":"overloaded","type":"server_error"}\n' in out


def test_show_refuses_a_directory(small: Path) -> None:
    status, _, err = run("show", str(small))
    assert status == 2
    assert (
        err
        == f"httpx-cassette show: {small} is a directory: show takes one file (list them with: httpx-cassette ls {small})\n"
    )


# -- verify ------------------------------------------------------------------------------------


def test_verify_accepts_real_recordings_and_the_shipped_cassettes(recorded: Path) -> None:
    assert run("verify", str(recorded)) == (0, "3 files, 3 streams checked: all good\n", "")
    status, out, _ = run("verify", str(ROOT / "cassettes"))
    assert status == 0
    assert out.endswith("checked: all good\n")


def test_verify_names_every_problem_with_its_file(small: Path) -> None:
    broken = small / "broken.json"
    broken.write_text('{"version": 1, "request": {"method": "GET"}, "responses": []}')
    split = stream_file(["a", "b"], model="split")
    split.responses[0].body[0].unterminated = True  # its lines would merge into the next event
    write(small / "split.json", split)
    bad_text = stream_file(["a"], model="cr")
    bad_text.responses[0].body[0] = Event(data="line\rbreak", raw=True)
    write(small / "cr.json", bad_text)
    ids = stream_file(["a", "b"], model="ids")
    ids.responses[0].body[0].id = "evt-1"  # SSE ids persist: the next event reads back with it too
    write(small / "ids.json", ids)
    short = stream_file(["a"], model="side")
    short.responses[0] = Response(status=200, body_file="side.0.bin")  # its own side file, not there
    write(small / "side.json", short)
    status, out, err = run("verify", str(small))
    assert status == 1
    assert err.splitlines() == [
        f"{small / 'broken.json'}: Object missing required field `url` - at `$.request`",
        f"{small / 'cr.json'}: responses[0]: an event cannot be written as Server-Sent Events:"
        " SSE data cannot contain a carriage return: 'line\\rbreak'",
        f'{small / "ids.json"}: responses[0]: event 1 reads back with id "evt-1" instead of null',
        f"{small / 'side.json'}: responses[0]: its body file side.0.bin is missing:"
        " restore it, or record the interaction again",
        f"{small / 'split.json'}: only a stream's last event can be unterminated (before another event"
        " or [DONE], the client would read the two as one) - at `$.responses[0].body[0].unterminated`",
    ]
    assert out == "7 files, 3 streams checked: 5 problems in 5 files\n"


def test_verify_reports_the_temporary_file_a_killed_recording_left(recorded: Path) -> None:
    cassette = sorted(recorded.rglob("*.json"))[0]
    leftover = cassette.with_name(f".{cassette.name}.k2j4_x9q.tmp")
    leftover.write_bytes(cassette.read_bytes()[:100])  # what a SIGKILL mid-write leaves
    status, out, err = run("verify", str(recorded))
    assert status == 1
    assert err == (
        f"{leftover}: the temporary file of a write that did not finish (a process killed while"
        f" recording); {cassette.name} was not touched by it: delete this file if no recording is running\n"
    )
    assert out == "3 files, 3 streams checked: 1 problem in 1 file\n"
    leftover.unlink()
    assert run("verify", str(recorded))[0] == 0


def test_verify_shows_progress_on_large_directories(small: Path) -> None:
    source = small / "post-chat-completions-aaaaaaaaaaaa.json"
    for i in range(PROGRESS_FROM):  # each its own request: two files of one request are a problem
        copy = json.loads(source.read_text())
        copy["request"]["body"]["model"] = f"m{i}"
        (small / f"post-chat-completions-{i:012x}.json").write_text(json.dumps(copy))
    err = Terminal()
    status, out, _ = run("verify", str(small), err=err)
    assert status == 0
    assert out == f"{PROGRESS_FROM + 2} files, {PROGRESS_FROM + 1} streams checked: all good\n"
    progress = err.getvalue()
    assert f"\rverifying {PROGRESS_FROM + 2}/{PROGRESS_FROM + 2} (100%)" in progress
    assert progress.endswith("\r\033[K")
    quiet = Terminal()
    run("verify", str(source), err=quiet)
    assert quiet.getvalue() == ""  # one file: no progress bar


# -- diff --------------------------------------------------------------------------------------


def record_chat(directory: Path, answer: str) -> None:
    with LiveServer(create_app(replies={"question": answer})) as server:
        client = openai.OpenAI(
            base_url=server.base_url,
            api_key="sk-test",
            http_client=httpx.Client(transport=CassetteTransport(directory, mode="record")),
        )
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "question"}], stream=True
        ):
            pass
        client.models.list()


def test_diff_reviews_a_re_recording(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    record_chat(old, "It is sunny in Paris today")
    record_chat(new, "It is rainy in Paris today")
    write(old / "get-models-000000000000.json", models_file("https://api.openai.com/v1/models/gpt-4o"))
    status, out, _ = run("diff", str(old), str(new))
    models, chat = next(new.glob("get-models-*.json")), next(new.glob("post-chat-completions-*.json"))
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == f"removed {old / 'get-models-000000000000.json'}"
    assert lines[1] == f"changed {models}"
    assert lines[2].startswith('  request.url: "http://127.0.0.1:')
    assert lines[2].endswith('/v1/models"')
    assert lines[3] == f"changed {chat}"
    assert lines[4].startswith('  request.url: "http://127.0.0.1:')  # another server, another port
    assert lines[5:] == [
        '  responses[0].body[3].__data__.choices[0].delta.content: " sunny" → " rainy"',
        "  responses[0] stream text:",
        "    - It is sunny in Paris today",
        "    + It is rainy in Paris today",
        "2 changed, 0 added, 1 removed, 0 unchanged",
    ]
    assert (
        run("diff", str(new), str(old))[1].splitlines()[0]
        == f"added   {old / 'get-models-000000000000.json'}"
    )


def test_diff_of_identical_cassettes_and_of_two_files(small: Path, tmp_path: Path) -> None:
    assert run("diff", str(small), str(small)) == (0, "0 changed, 0 added, 0 removed, 2 unchanged\n", "")
    other = write(tmp_path / "other.json", stream_file(["Hello", " small", " world"]))
    other_bytes = other.read_bytes().replace(b"2026-01-02", b"2027-01-02").replace(b"12.0", b"13.0")
    other.write_bytes(other_bytes)
    status, out, _ = run("diff", str(small / "post-chat-completions-aaaaaaaaaaaa.json"), str(other))
    assert status == 1
    assert out.splitlines()[1:] == [
        '  responses[0].body[1].__data__.choices[0].delta.content: " big" → " small"',
        "  responses[0] stream text:",
        "    - Hello big world",
        "    + Hello small world",
        "1 changed, 0 added, 0 removed, 0 unchanged",
    ]
    _, everything, _ = run(
        "diff", "--all", str(small / "post-chat-completions-aaaaaaaaaaaa.json"), str(other)
    )
    assert '  meta.recorded_at: "2026-01-02T03:04:05+00:00" → "2027-01-02T03:04:05+00:00"' in everything
    assert "  responses[0].offsets_ms[0]: 12.0 → 13.0" in everything
    assert run("diff", str(small), str(other))[0] == 2


def test_diff_reports_a_change_repeated_in_every_event_once(tmp_path: Path) -> None:
    a, b = stream_file(["x", "y"]), stream_file(["x", "y"])
    a.responses[0].body = [
        chunk(e.data["choices"][0]["delta"].get("content"), id="c-1") for e in a.responses[0].body
    ]
    b.responses[0].body = [
        chunk(e.data["choices"][0]["delta"].get("content"), id="c-2") for e in b.responses[0].body
    ]
    b.responses[0].body.append(chunk(" z"))
    _, out, _ = run("diff", str(write(tmp_path / "a.json", a)), str(write(tmp_path / "b.json", b)))
    assert out.splitlines()[1:] == [
        '  responses[0].body[*].__data__.id: "c-1" → "c-2"  (in 3 events)',
        '  responses[0].body[3]: (absent) → {"__data__":{"object":"chat.completion.…content":" z"},"finish_reason":null}]}}',
        "  responses[0] stream text:",
        "    - xy",
        "    + xy z",
        "1 changed, 0 added, 0 removed, 0 unchanged",
    ]  # fmt: skip


def test_diff_limits_long_lists_unless_full(small: Path, tmp_path: Path) -> None:
    words = [f" w{i}" for i in range(30)]
    a = write(tmp_path / "a.json", stream_file(words))
    b = write(tmp_path / "b.json", stream_file([w.upper() for w in words]))
    _, out, _ = run("diff", str(a), str(b))
    assert "  … and 10 more (--full shows every change)" in out
    _, full, _ = run("diff", "--full", str(a), str(b))
    assert "more (--full" not in full
    assert full.count(" → ") == 30


# -- prune -------------------------------------------------------------------------------------


def test_prune_deletes_what_no_test_used(small: Path, tmp_path: Path) -> None:
    used = small / "post-chat-completions-aaaaaaaaaaaa.json"
    unused = small / "get-models-bbbbbbbbbbbb.json"
    side = small / "get-models-bbbbbbbbbbbb.1.bin"
    side.write_bytes(b"\0" * 10)
    nested = write(small / "test_old" / "get-models-dddddddddddd.json", models_file())
    report = tmp_path / "usage.json"  # the shape the pytest plugin writes (paths relative to the report)
    used_path = used.relative_to(tmp_path).as_posix()
    folders = {"directories": [small.name], "unused_directories": [f"{small.name}/test_old"]}
    report.write_text(json.dumps({"version": 1, "complete": True, "used": [used_path], **folders}))
    status, out, _ = run("prune", str(small), "--used-by", str(report), "--dry-run")
    assert (status, out) == (
        0,
        f"would delete {unused}\nwould delete {nested}\nwould delete 2 unused interactions\n",
    )
    assert unused.exists()
    assert nested.exists()
    status, out, _ = run("prune", str(small), "--used-by", str(report))
    assert out.splitlines()[-1] == "deleted 2 unused interactions"
    assert sorted(p.name for p in small.rglob("*")) == [used.name]  # side file and emptied folder gone
    assert run("prune", str(small), "--used-by", str(report))[1] == "every interaction was used\n"


def test_prune_refuses_a_report_about_other_cassettes(small: Path, tmp_path: Path) -> None:
    report = tmp_path / "usage.json"
    report.write_text(json.dumps({"used": ["/elsewhere/post-x-000000000000.json"]}))
    status, _, err = run("prune", str(small), "--used-by", str(report))
    assert status == 2
    assert err == (
        f"httpx-cassette prune: the usage report names none of the 2 cassette files under {small}; nothing was"
        " deleted (was the report written by a run of the tests that use them?)\n"
    )
    report.write_text(json.dumps({"complete": False, "used": [str(small / "get-models-bbbbbbbbbbbb.json")]}))
    assert run("prune", str(small), "--used-by", str(report))[2] == (
        f"httpx-cassette prune: usage report {report} is incomplete (a worker crashed or the run was"
        " interrupted), so it may miss files in use; nothing was deleted: run the tests again to write a"
        " complete report\n"
    )
    report.write_text("[1, 2]")
    assert run("prune", str(small), "--used-by", str(report))[2].startswith(
        f"httpx-cassette prune: usage report {report} is not a usage report (Expected `object`, got `array`)"
    )
    assert len(list(small.glob("*.json"))) == 2


def test_prune_deletes_only_where_the_report_shows_the_tests_ran_and_passed(
    small: Path, tmp_path: Path
) -> None:
    # Per-file evidence, whatever the complete flag says: an unused file is deleted only in a cassette the
    # run opened, or a folder no collected test owns, and never in the folder of a test that did not pass.
    used = small / "post-chat-completions-aaaaaaaaaaaa.json"
    unused = small / "get-models-bbbbbbbbbbbb.json"
    skipped = write(small / "test_skipped" / "get-models-dddddddddddd.json", models_file())
    other = write(small / "test_other_module" / "get-models-eeeeeeeeeeee.json", models_file())
    stale_in_kept = write(small / "gone" / "test_skipped" / "get-models-ffffffffffff.json", models_file())
    report = tmp_path / "usage.json"
    report.write_text(
        json.dumps(
            {
                "complete": True,
                "used": [str(used)],
                "directories": ["cas", "cas/test_skipped"],
                "unused_directories": ["cas/gone"],
                "kept": ["cas/test_skipped", "cas/gone/test_skipped"],
            }
        )
    )
    status, out, _ = run("prune", str(small), "--used-by", str(report))
    assert (status, out) == (
        0,
        f"deleted {unused}\ndeleted 1 unused interaction\nkept 3 unused interactions: the report does not"
        " show the tests that own their folders running to a pass (no test of the run opened the folder, or"
        " its test did not run or failed)\n",
    )
    assert not unused.exists()
    assert all(file.exists() for file in (skipped, other, stale_in_kept))
    report.write_text(json.dumps({"complete": True, "used": [str(used)]}))  # no evidence for any folder
    assert run("prune", str(small), "--used-by", str(report))[1].startswith("kept 3 unused interactions: ")


def test_prune_goes_by_kept_not_by_the_tests_a_run_left_out(small: Path, tmp_path: Path) -> None:
    # Tests that did not run (a platform skip, -k) do not make the report refused: their folders are
    # kept, and the unused files of the cassettes the run's passing tests opened are deleted.
    report = tmp_path / "usage.json"
    used = small / "post-chat-completions-aaaaaaaaaaaa.json"
    unused = small / "get-models-bbbbbbbbbbbb.json"
    skipped = write(small / "test_skipped" / "get-models-dddddddddddd.json", models_file())
    report.write_text(
        json.dumps(
            {
                "complete": True,
                "not_run": 3,
                "used": [str(used)],
                "directories": ["cas", "cas/test_skipped"],
                "kept": ["cas/test_skipped"],
            }
        )
    )
    status, out, err = run("prune", str(small), "--used-by", str(report))
    assert (status, err) == (0, "")
    assert out.splitlines()[:2] == [f"deleted {unused}", "deleted 1 unused interaction"]
    assert not unused.exists()
    assert skipped.exists()
    assert used.exists()
    # Without the per-test evidence (a worker crashed, the run was interrupted) it is refused whole.
    write(unused, models_file())
    report.write_text(
        json.dumps({"complete": False, "not_run": 3, "used": [str(used)], "directories": ["cas"]})
    )
    assert run("prune", str(small), "--used-by", str(report)) == (
        2,
        "",
        f"httpx-cassette prune: usage report {report} is incomplete (a worker crashed or the run was"
        " interrupted), so it may miss files in use; nothing was deleted: run the tests again to write a"
        " complete report\n",
    )
    assert unused.exists()


# -- convert: vcrpy ----------------------------------------------------------------------------


def sse(*objects: Any) -> bytes:
    return b"".join(b"data: " + json.dumps(o).encode() + b"\n\n" for o in objects) + b"data: [DONE]\n\n"


def vcr_cassette(interactions: list[dict[str, Any]]) -> str:
    yaml = pytest.importorskip("yaml")
    text: str = yaml.safe_dump({"interactions": interactions, "version": 1})
    return text


def vcr_interaction(
    body: str, response: bytes, headers: dict[str, list[str]], status: int = 200
) -> dict[str, Any]:
    return {
        "request": {
            "body": body,
            "headers": {"authorization": ["Bearer sk-secret-key"], "content-type": ["application/json"]},
            "method": "POST",
            "uri": "https://api.openai.com/v1/chat/completions?api-key=sk-in-url",
        },
        "response": {
            "body": {"string": response},
            "headers": headers,
            "status": {"code": status, "message": "OK"},
        },
    }


def test_convert_vcr_decodes_gzip_splits_streams_and_keeps_repeats_in_order(tmp_path: Path) -> None:
    stream = sse(chunk("Hi").data, chunk(" there", "stop").data)
    body = '{"model": "gpt-4o-mini", "stream": true}'
    yaml_text = vcr_cassette(
        [
            vcr_interaction(body, gzip.compress(stream), {"Content-Type": ["text/event-stream"], "Content-Encoding": ["gzip"]}),
            vcr_interaction('{"model": "x"}', b'{"error": "busy"}', {"content-type": ["application/json"]}, 429),
            vcr_interaction('{"model":"x"}', b'{"ok": true}', {"content-type": ["application/json"], "Date": ["Tue, 02 Jan 2024 03:04:05 GMT"]}),
        ]
    )  # fmt: skip
    source = tmp_path / "test_chat.yaml"
    source.write_text(yaml_text)
    status, out, _ = run("convert", str(source), str(tmp_path / "out"), "--from", "vcr")
    assert (status, out) == (0, f"wrote 2 files to {tmp_path / 'out'}\n")
    everything = b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    assert b"sk-secret-key" not in everything
    assert b"sk-in-url" not in everything
    files = {p.name.split("-")[-1]: json.loads(p.read_text()) for p in (tmp_path / "out").iterdir()}
    streamed = next(f for f in files.values() if f["responses"][0]["is_streaming"])
    assert streamed["request"]["body"] == {"model": "gpt-4o-mini", "stream": True}
    assert streamed["request"]["url"] == "https://api.openai.com/v1/chat/completions?api-key=REDACTED"
    assert [e["__data__"] for e in streamed["responses"][0]["body"]] == [
        chunk("Hi").data,
        chunk(" there", "stop").data,
    ]
    assert streamed["responses"][0]["done"] is True
    assert streamed["responses"][0]["headers"] == {"content-type": "text/event-stream"}  # encoding dropped
    repeated = next(f for f in files.values() if not f["responses"][0].get("is_streaming"))
    assert [(r["status"], r["body"]) for r in repeated["responses"]] == [
        (429, {"error": "busy"}),
        (200, {"ok": True}),
    ]
    assert "recorded_at" not in repeated["meta"]  # taken from the first response's date header: none
    assert run("verify", str(tmp_path / "out"))[0] == 0


def test_convert_vcr_folder_mirrors_pytest_recording_layout(tmp_path: Path) -> None:
    one = vcr_cassette([vcr_interaction('{"a": 1}', b'{"ok": 1}', {"content-type": ["application/json"]})])
    (tmp_path / "src" / "test_mod").mkdir(parents=True)
    (tmp_path / "src" / "test_mod" / "test_one.yaml").write_text(one)
    (tmp_path / "src" / "test_mod" / "test_two.yml").write_text(one)
    status, _, _ = run("convert", str(tmp_path / "src"), str(tmp_path / "dst"), "--from", "vcr")
    assert status == 0
    assert sorted(
        p.relative_to(tmp_path / "dst").parent.as_posix() for p in (tmp_path / "dst").rglob("*.json")
    ) == [
        "test_mod/test_one",
        "test_mod/test_two",
    ]


def test_convert_vcr_refuses_python_tags_and_non_cassettes(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    evil = tmp_path / "evil.yaml"
    evil.write_text("interactions: !!python/object/apply:os.system ['echo hacked']\n")
    status, _, err = run("convert", str(evil), str(tmp_path / "out"), "--from", "vcr")
    assert status == 1  # a broken file, as in every command
    assert err.startswith(
        f"httpx-cassette convert: cannot read vcrpy cassette {evil}: could not determine a constructor"
    )
    (tmp_path / "list.yaml").write_text("- 1\n")
    assert run("convert", str(tmp_path / "list.yaml"), str(tmp_path / "out"), "--from", "vcr")[2] == (
        f"httpx-cassette convert: {tmp_path / 'list.yaml'} is not a vcrpy cassette: it has no `interactions` list\n"
    )
    assert not (tmp_path / "out").exists()


def test_convert_a_real_vcrpy_recording_and_replay_it_through_the_sdk(tmp_path: Path) -> None:
    vcr = pytest.importorskip("vcr")
    kwargs: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Paris"}],
        "tools": [WEATHER_TOOL],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with LiveServer(create_app()) as server:
        with vcr.use_cassette(str(tmp_path / "test_weather.yaml"), record_mode="all"):
            client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", http_client=httpx.Client())
            live = [c.model_dump() for c in client.chat.completions.create(**kwargs)]
            live_embedding = (
                client.embeddings.create(model="text-embedding-3-small", input="x").data[0].embedding
            )
        base_url = server.base_url
    assert run("convert", str(tmp_path / "test_weather.yaml"), str(tmp_path / "cas"), "--from", "vcr")[0] == 0
    transport = CassetteTransport(tmp_path / "cas", mode="replay")
    client = openai.OpenAI(
        base_url=base_url, api_key="sk-test", http_client=httpx.Client(transport=transport)
    )
    assert [c.model_dump() for c in client.chat.completions.create(**kwargs)] == live
    assert (
        client.embeddings.create(model="text-embedding-3-small", input="x").data[0].embedding
        == live_embedding
    )


def test_convert_rejects_unsupported_routes(tmp_path: Path) -> None:
    assert run("convert", str(tmp_path), str(tmp_path / "o"), "--from", "vcr", "--to", "llama-stack")[2] == (
        "httpx-cassette convert: cannot convert from vcr to llama-stack: convert vcr -> ours, llama-stack -> ours,"
        " or ours -> llama-stack\n"
    )


# -- convert: llama-stack, and scan (modules of other issues) ----------------------------------

HAS_LLAMASTACK = importlib.util.find_spec("httpx_cassette.formats.llamastack") is not None
HAS_SCAN = importlib.util.find_spec("httpx_cassette.core.scan") is not None


def llama_stack_recording() -> dict[str, Any]:
    """A streamed chat completion in llama-stack's recording format (written here, not copied)."""
    chunks = [chunk("Hi", id="rec-1", created=0).data, chunk("!", "stop", id="rec-1", created=0).data]
    type_name = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
    return {
        "test_id": "tests/integration/test_chat.py::test_hi",
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/v1/chat/completions",
            "headers": {},
            "body": {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Say hi"}],
                "stream": True,
            },
            "endpoint": "/v1/chat/completions",
            "model": "gpt-4o-mini",
        },
        "response": {"body": [{"__type__": type_name, "__data__": c} for c in chunks], "is_streaming": True},
    }


@pytest.mark.skipif(
    not HAS_LLAMASTACK, reason="httpx_cassette.formats.llamastack (issue 3) is not in this tree yet"
)
def test_convert_llama_stack_both_ways(tmp_path: Path) -> None:
    recording = llama_stack_recording()
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "abc.json").write_text(json.dumps(recording))
    ours, back = tmp_path / "ours", tmp_path / "back"
    assert run("convert", str(tmp_path / "recordings"), str(ours), "--from", "llama-stack") == (
        0,
        f"wrote 1 file to {ours}\n",
        "",
    )
    converted = json.loads(next(ours.glob("*.json")).read_text())
    assert [e["__data__"] for e in converted["responses"][0]["body"]] == [
        e["__data__"] for e in recording["response"]["body"]
    ]
    assert run("verify", str(ours))[0] == 0
    transport = CassetteTransport(ours, mode="replay")
    client = openai.OpenAI(
        base_url="http://anything/v1", api_key="x", http_client=httpx.Client(transport=transport)
    )
    replayed = [
        c.model_dump(exclude_unset=True)
        for c in client.chat.completions.create(**recording["request"]["body"])
    ]
    assert [c["choices"][0]["delta"] for c in replayed] == [{"content": "Hi"}, {"content": "!"}]
    assert run("convert", str(ours), str(back), "--to", "llama-stack")[:2] == (
        0,
        f"wrote 1 file to {back}\n",
    )
    written = json.loads(next(back.glob("*.json")).read_text())
    assert written["response"]["body"] == recording["response"]["body"]
    assert written["response"]["is_streaming"] is True


def test_convert_llama_stack_again_never_overwrites_a_cassette_recorded_since(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "abc.json").write_text(json.dumps(llama_stack_recording()))
    ours = tmp_path / "ours"
    argv = ("convert", str(tmp_path / "recordings"), str(ours), "--from", "llama-stack")
    assert run(*argv)[:2] == (0, f"wrote 1 file to {ours}\n")
    assert run(*argv)[:2] == (  # the same recording: left as it is, and said so
        0,
        f"wrote 0 files to {ours} (1 file already there, unchanged)\n",
    )
    [converted] = ours.glob("*.json")
    data = json.loads(converted.read_text())
    data["responses"][0]["status"] = 201
    converted.write_text(json.dumps(data, indent=2))
    edited = converted.read_bytes()
    status, out, err = run(*argv)
    assert (status, out) == (1, "")
    assert err.startswith(
        f"httpx-cassette convert: refusing to convert llama-stack recording {tmp_path / 'recordings' / 'abc.json'}:"
        f" {converted} already holds a different recording of its request POST "
    )
    assert err.endswith("or pass --force to overwrite it with this conversion\n")
    assert converted.read_bytes() == edited
    assert run(*argv, "--force")[:2] == (0, f"wrote 1 file to {ours}\n")
    assert json.loads(converted.read_text())["responses"][0]["status"] == 200


@pytest.mark.skipif(not HAS_SCAN, reason="httpx_cassette.core.scan (issue 6) is not in this tree yet")
def test_scan_names_secrets_in_existing_cassettes(small: Path) -> None:
    assert run("scan", str(small)) == (0, f"no secrets found under {small}\n", "")
    leaky = models_file()
    bearer, key = "Bearer " + "abcdefghijklmnopqrstuvwxyz0123", "sk-proj-" + "0123456789abcdefghijklmnop"
    leaky.responses[1].headers["x-upstream-auth"] = bearer
    leaky.responses[1].body = {"data": [], "note": key}
    write(small / "get-models-bbbbbbbbbbbb.json", leaky)
    status, out, err = run("scan", str(small))
    file = small / "get-models-bbbbbbbbbbbb.json"
    assert (status, out) == (1, "2 possible secrets found\n")
    assert err.splitlines() == [
        f"{file}: $.responses[1].headers.x-upstream-auth: bearer token Bearer…({len(bearer)} chars)"
        '  (to keep it out: redact_headers=["x-upstream-auth"])',
        f"{file}: $.responses[1].body.note: OpenAI API key sk-pro…({len(key)} chars)"
        '  (to keep it out: redact_json_paths=["note"])',
    ]
    allowed = run("scan", str(small), "--allow", key, "--allow-pattern", "Bearer .*")
    assert allowed[0] == 0


# -- plumbing ----------------------------------------------------------------------------------


def test_python_dash_m_runs_the_same_command(small: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "httpx_cassette", "ls", str(small), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert next(r["file"] for r in json.loads(result.stdout)) == "get-models-bbbbbbbbbbbb.json"


def test_rich_tables_when_rich_is_installed(small: Path) -> None:
    pytest.importorskip("rich")
    out = io.StringIO()
    assert main(["ls", str(small)], Console(out, io.StringIO(), fancy=True, width=200)) == 0
    table = out.getvalue()
    assert "get-models-bbbbbbbbbbbb.json" in table
    assert "429,200" in table
    assert "FILE" in table
    assert "─" in table  # rich's header rule: not the plain renderer


def test_rich_falls_back_to_plain_lines_when_the_table_does_not_fit(small: Path) -> None:
    pytest.importorskip("rich")
    wide, narrow = io.StringIO(), io.StringIO()
    main(["ls", str(small)], Console(wide, io.StringIO(), fancy=False))
    main(["ls", str(small)], Console(narrow, io.StringIO(), fancy=True, width=60))
    assert narrow.getvalue() == wide.getvalue()  # nothing dropped or cut


def test_plain_output_is_the_default_without_a_terminal() -> None:
    console = Console(io.StringIO(), io.StringIO())
    assert console.fancy is False
    assert console.fancy_err is False


def test_ls_and_verify_read_llama_stack_recordings(seeds_dir: Path) -> None:
    status, out, _ = run("ls", str(seeds_dir), "--json")
    rows = json.loads(out)
    assert status == 0
    assert [(r["file"][:3], r["events"]) for r in rows] == [
        ("000", [17]),
        ("001", [31]),
        ("002", [55]),
        ("003", [21]),
        ("004", [66]),
    ]  # the chunk counts seeds/README.md gives
    assert run("verify", str(seeds_dir)) == (0, "5 files, 5 streams checked: all good\n", "")


# -- what the messages say next --------------------------------------------------------------------

LEAKED_KEY = "sk-proj-" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"


def test_plain_is_accepted_after_the_command_too(small: Path) -> None:
    from httpx_cassette.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["ls", "--plain", str(small)]).plain is True
    assert parser.parse_args(["verify", str(small), "--plain"]).plain is True
    assert parser.parse_args(["--plain", "ls", str(small)]).plain is True
    assert parser.parse_args(["ls", str(small)]).plain is False
    assert run("ls", "--plain", str(small))[0] == 0


def test_convert_without_from_says_which_formats_it_reads(tmp_path: Path) -> None:
    assert run("convert", str(tmp_path), str(tmp_path / "o")) == (
        2,
        "",
        "httpx-cassette convert: say what to convert from: pass --from vcr (vcrpy and pytest-recording YAML"
        " cassettes) or --from llama-stack\n",
    )


def test_convert_vcr_again_never_overwrites_a_cassette_recorded_since(tmp_path: Path) -> None:
    # Converting in place a second time (the YAML files are kept until one is happy; a teammate's branch
    # brings another): a file holding the same recording is left as it is, one recorded again since
    # refuses its YAML file, naming the file and --force, and only --force overwrites it.
    folder = tmp_path / "cassettes" / "test_chat"
    folder.mkdir(parents=True)
    answer = {"content-type": ["application/json"]}
    (folder / "test_one.yaml").write_text(
        vcr_cassette([vcr_interaction('{"a": 1}', b'{"answer": "old"}', answer)])
    )
    argv = ("convert", str(tmp_path / "cassettes"), str(tmp_path / "cassettes"), "--from", "vcr")
    assert run(*argv)[:2] == (0, f"wrote 1 file to {tmp_path / 'cassettes'}\n")
    [converted] = (folder / "test_one").glob("*.json")
    assert run(*argv)[:2] == (
        0,
        f"wrote 0 files to {tmp_path / 'cassettes'} (1 file already there, unchanged)\n",
    )

    data = json.loads(converted.read_text())
    data["responses"][0]["body"] = {"answer": "recorded again"}
    converted.write_text(json.dumps(data, indent=2))
    rerecorded = converted.read_bytes()
    (folder / "test_two.yaml").write_text(
        vcr_cassette([vcr_interaction('{"b": 2}', b'{"answer": 2}', answer)])
    )
    status, out, err = run(*argv)
    assert (status, out) == (1, f"wrote 1 file to {tmp_path / 'cassettes'}; 1 source file refused (above)\n")
    assert err == (
        f"httpx-cassette convert: refusing to convert vcrpy cassette {folder / 'test_one.yaml'}: {converted}"
        " already holds a different recording of its request POST https://api.openai.com/v1/chat/completions"
        "?api-key=REDACTED (recorded or edited since it was converted?); nothing of this file was written:"
        f" keep that cassette and delete {folder / 'test_one.yaml'}, or pass --force to overwrite it with this"
        " conversion\n"
    )
    assert converted.read_bytes() == rerecorded
    assert len(list((folder / "test_two").glob("*.json"))) == 1

    assert run(*argv, "--force")[:2] == (
        0,
        f"wrote 1 file to {tmp_path / 'cassettes'} (1 file already there, unchanged)\n",
    )
    assert json.loads(converted.read_text())["responses"][0]["body"] == {"answer": "old"}


def test_convert_vcr_again_compares_a_large_body_by_its_bytes_not_where_it_is_kept(tmp_path: Path) -> None:
    # A binary body over 64 KiB is kept in a side file (`body_file`), the fresh conversion holds it inline
    # (`base64`): the same bytes are the same recording, left as they are; other bytes still refuse.
    source, out = tmp_path / "test_download.yaml", tmp_path / "out"
    download = {"content-type": ["application/octet-stream"]}
    body = bytes(range(256)) * 400
    source.write_text(vcr_cassette([vcr_interaction('{"a": 1}', body, download)]))
    argv = ("convert", str(source), str(out), "--from", "vcr")
    assert run(*argv)[:2] == (0, f"wrote 1 file to {out}\n")
    [side] = out.glob("*.bin")
    assert side.read_bytes() == body
    assert run(*argv)[:2] == (0, f"wrote 0 files to {out} (1 file already there, unchanged)\n")
    assert side.read_bytes() == body

    source.write_text(vcr_cassette([vcr_interaction('{"a": 1}', body[::-1], download)]))
    status, _, err = run(*argv)
    assert status == 1
    assert "already holds a different recording of its request" in err
    assert side.read_bytes() == body


def test_convert_vcr_converts_every_file_it_can_and_names_every_refused_one(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name, note in (("a_leak", LEAKED_KEY), ("b_ok", "hello"), ("c_leak", LEAKED_KEY)):
        interaction = vcr_interaction(
            '{"a": 1}', json.dumps({"note": note}).encode(), {"content-type": ["application/json"]}
        )
        (source / f"test_{name}.yaml").write_text(vcr_cassette([interaction]))
    (source / "test_d_broken.yaml").write_text("- 1\n")
    status, out, err = run("convert", str(source), str(tmp_path / "out"), "--from", "vcr")
    assert status == 1
    assert out == f"wrote 1 file to {tmp_path / 'out'}; 3 source files refused (above)\n"
    lines = err.splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [
        f"refusing to convert {source / 'test_a_leak.yaml'}",
        f"refusing to convert {source / 'test_c_leak.yaml'}",
        f"{source / 'test_d_broken.yaml'} is not a vcrpy cassette",
    ]
    assert all(line.startswith("httpx-cassette convert: ") for line in lines)
    assert LEAKED_KEY not in err
    written = sorted(p.relative_to(tmp_path / "out").parts[0] for p in (tmp_path / "out").rglob("*.json"))
    assert written == ["test_b_ok"]


@pytest.mark.skipif(not HAS_LLAMASTACK, reason="httpx_cassette.formats.llamastack is not in this tree")
def test_convert_llama_stack_names_every_refused_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for i, content in enumerate(("Say hi", f"key {LEAKED_KEY}", f"other {LEAKED_KEY}")):
        recording = llama_stack_recording()
        recording["request"]["body"]["messages"][0]["content"] = content
        (tmp_path / "src" / f"{str(i) * 64}.json").write_text(json.dumps(recording))
    status, out, err = run("convert", str(tmp_path / "src"), str(tmp_path / "ours"), "--from", "llama-stack")
    assert (status, out) == (1, f"wrote 0 files to {tmp_path / 'ours'}; 2 source files refused (above)\n")
    assert sorted(line.split(": ", 2)[1] for line in err.splitlines()) == [
        f"refusing to convert {tmp_path / 'src' / ('1' * 64 + '.json')}",
        f"refusing to convert {tmp_path / 'src' / ('2' * 64 + '.json')}",
    ]
    assert not list((tmp_path / "ours").rglob("*.json"))  # all or none: one request may be in several files


def test_verify_reports_unknown_keys_and_offsets_that_do_not_match(small: Path) -> None:
    typo = small / "post-chat-completions-aaaaaaaaaaaa.json"
    data = json.loads(typo.read_text())
    data["reqest"] = None
    response = data["responses"][0]
    response["bdy"] = response.pop("body")  # the stream replays empty, and its 5 offsets pace nothing
    typo.write_text(json.dumps(data, indent=2))
    events = stream_file(["a", "b"], offsets=[1.0, 2.0], model="offsets")  # 3 events + [DONE]: 4 times
    write(small / "offsets.json", events)
    keyed = json.loads(encode_file(stream_file(["a", "b"], model="keys")))
    for event in keyed["responses"][0]["body"][:2]:
        event["evnt"] = "message"
    (small / "keys.json").write_text(json.dumps(keyed))
    status, out, err = run("verify", str(small))
    assert status == 1
    unknown = "replay ignores it; rename it to a field of the format (docs/concepts/format.md in the httpx_cassette docs), or remove it if a newer httpx_cassette wrote it"
    assert err.splitlines() == [
        f"{small / 'keys.json'}: $.responses[0].body[0] (and in 1 more event): unknown key 'evnt' (did you mean 'event'?): {unknown}",
        f"{small / 'offsets.json'}: responses[0]: offsets_ms holds 2 times for a stream of 3 events + [DONE]: replay paces the stream by them; record it again, or remove offsets_ms to replay it without its pacing",
        f"{typo}: responses[0]: offsets_ms holds 5 times for a stream of 0 events + [DONE]: replay paces the stream by them; record it again, or remove offsets_ms to replay it without its pacing",
        f"{typo}: $: unknown key 'reqest' (did you mean 'request'?): {unknown}",
        f"{typo}: $.responses[0]: unknown key 'bdy' (did you mean 'body'?): {unknown}",
    ]
    assert out == "4 files, 3 streams checked: 5 problems in 3 files\n"
