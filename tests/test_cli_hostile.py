"""The CLI on hostile cassettes: event data of any JSON type where a well-formed file has a string, a
number or an object, and timing offsets out of order or out of range. Every command prints its
normal output or one line naming the broken file (exit status 0 or 1), never a Python traceback.

Files are written as raw JSON (not through the model), as a pull request would bring them.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.cli.inspect import sparkline, timing_of
from httpx_cassette.cli.show import timing_lines
from httpx_cassette.model.cassette import Response
from httpx_cassette.model.jsondiff import around_difference, as_text

URL = "https://api.test/v1/chat/completions"


def run(*argv: str | Path) -> tuple[int, str, str]:
    """Run the CLI in-process: a raw exception would fail the test with its traceback."""
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def cassette(response: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "request": {"method": "POST", "url": URL, "headers": {}, "body": {"model": "m"}},
        "responses": [response],
    }


def stream(*data: Any, done: bool = True, **fields: Any) -> dict[str, Any]:
    """A cassette of one SSE stream whose events carry ``data``."""
    response = {
        "status": 200,
        "headers": {"content-type": "text/event-stream"},
        "is_streaming": True,
        "body": [{"__data__": d} for d in data],
        "done": done,
        **fields,
    }
    return cassette(response)


def put(directory: Path, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    file = directory / "post-chat-completions-aaaaaaaaaaaa.json"
    file.write_text(json.dumps(data))
    return file


def chat_chunk(
    content: Any = "hi", finish: Any = None, index: Any = 0, tool: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    delta: dict[str, Any] = {"content": content}
    if tool is not None:
        delta["tool_calls"] = [tool]
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def assert_one_line_or_output(status: int, err: str, file: Path | None = None) -> None:
    """Normal output (0, or 1 for a check that found something), or one line naming the broken file."""
    assert status in (0, 1), err
    assert "Traceback" not in err
    if err and file is not None:
        assert len(err.splitlines()) == 1
        assert str(file) in err


# Values a hostile file may put where a string, a number or an object goes.
ODD_VALUES: list[Any] = [
    None,
    0,
    1.5,
    10**30,
    1e308,
    True,
    "",
    [],
    ["x"],
    {},
    {"a": {"b": [1, None]}},
    json.loads("[" * 200 + "]" * 200),
]


# -- the reviewer's repros -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", [5, 1.5, True, {"a": 1}, ["x"], [], {"a": {"b": [1, None]}}])
def test_diff_of_a_finish_reason_that_is_not_a_string(tmp_path: Path, reason: Any) -> None:
    old = put(tmp_path / "old", stream(chat_chunk(finish="stop")))
    new = put(tmp_path / "new", stream(chat_chunk(finish=reason)))
    status, out, err = run("diff", old.parent, new.parent)
    assert (status, err) == (1, "")
    shown = json.dumps(reason, separators=(",", ":"))
    lines = out.splitlines()
    assert f'  responses[0].body[0].__data__.choices[0].finish_reason: "stop" → {shown}' in lines
    if reason:  # a falsy finish reason is no finish reason to the transcript
        at = lines.index("  responses[0] stream finish reason:")
        assert lines[at + 1 : at + 3] == ["    - stop", f"    + {shown}"]
    assert lines[-1] == "1 changed, 0 added, 0 removed, 0 unchanged"
    assert run("diff", new, old)[0] == 1  # and the other way round


@pytest.mark.parametrize("offsets", [[1.0, 2.0, -1.0], [1.0, 2.0, -1e308], [1e25, 2.0, 3.0]])
def test_show_events_with_offsets_out_of_range(tmp_path: Path, offsets: list[float]) -> None:
    file = put(tmp_path, stream({"a": 0}, {"a": 1}, {"a": 2}, done=False, offsets_ms=offsets))
    status, _, err = run("show", "--events", file)
    assert_one_line_or_output(status, err, file)  # refused at load (0-24 h), or shown: never raises
    assert run("verify", tmp_path)[0] == status


def test_show_events_with_offsets_out_of_order(tmp_path: Path) -> None:
    # Within 0-24 h, so loading accepts them: the gaps are negative, and the chart draws them lowest
    # (a negative bar index once picked a bar from the end: the tallest).
    file = put(
        tmp_path, stream(*({"a": i} for i in range(4)), done=False, offsets_ms=[10.0, 5.0, 20.0, 15.0])
    )
    status, out, err = run("show", "--events", file)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert '  [1] +5.0 ms  {"a":1}' in lines
    assert lines[-4:] == [
        "timing: first event 10.0 ms, last event 15.0 ms",
        "gaps between 4 events: min -5.0 ms, median -5.0 ms, max 15.0 ms",
        "  ▁█▁",
        "longest: 15.0 ms before event 2, -5.0 ms before event 1, -5.0 ms before event 3",
    ]


# -- timing and the chart, on values loading would refuse ----------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 2.0, -1.0],
        [1.0, 2.0, -1e308],
        [-1e25, 1.0],
        [1.7e308, -1.7e308],
        [math.inf, 1.0, -math.inf],
        [math.nan, 2.0],
        [math.nan],
        [0.0, 0.0],
        [5e-324, 1e308],
        [3.0] * 1000,
    ],
)
def test_sparkline_is_total(values: list[float]) -> None:
    line = sparkline(values)
    assert set(line) <= set("▁▂▃▄▅▆▇█")
    assert len(line) <= 60
    assert sparkline(values, width=0) is not None  # a width below one draws one value per column


def test_sparkline_draws_negative_gaps_lowest_and_infinite_ones_highest() -> None:
    assert sparkline([1.0, 2.0, -1.0]) == "▅█▁"
    assert sparkline([math.inf, 1.0, -math.inf, math.nan]) == "██▁"
    assert sparkline([0.0, 0.0]) == "▁▁"
    assert sparkline([]) == sparkline([math.nan]) == ""


@pytest.mark.parametrize(
    "offsets",
    [
        [1.0, 2.0, -1.0],
        [1.0, 2.0, -1e308],
        [1e25, 2.0, 3.0],
        [1e308, -1e308, 1e308],
        [math.nan, 1.0, math.inf, 2.0, -math.inf],
        [math.nan],
    ],
)
def test_timing_of_offsets_loading_would_refuse(offsets: list[float]) -> None:
    # Built in Python, the model does not check ranges: the timing code must hold on its own.
    response = Response(status=200, is_streaming=True, elapsed_ms=math.nan, offsets_ms=offsets)
    timing = timing_of(response)
    assert all(not math.isnan(gap) for gap in timing.gaps_ms)
    lines = timing_lines(timing, len(offsets))
    assert lines[0].startswith("timing:")


def test_timing_leaves_out_offsets_that_are_not_finite() -> None:
    response = Response(status=200, is_streaming=True, offsets_ms=[math.nan, 1.0, math.inf, 4.0])
    timing = timing_of(response)
    assert (timing.headers_ms, timing.first_event_ms, timing.total_ms, timing.gaps_ms) == (
        None,
        1.0,
        4.0,
        [3.0],
    )


# -- the one-line values diff and show print -----------------------------------------------------


def test_around_difference_takes_any_json_value() -> None:
    assert around_difference("stop", 5) == ("stop", "5")
    assert around_difference({"a": 1}, ["x"]) == ('{"a":1}', '["x"]')
    assert around_difference(None, True) == ("null", "true")
    assert as_text("plain") == "plain"
    assert as_text(10**30) == str(10**30)


# -- show: transcript fields of any type ---------------------------------------------------------


def test_show_prints_odd_transcript_fields_as_json(tmp_path: Path) -> None:
    tool = {"index": 0, "id": {"x": 1}, "function": {"name": 7, "arguments": "{}"}}
    file = put(
        tmp_path,
        stream(
            chat_chunk("a", index=0),
            chat_chunk("b", index="0"),  # a string index besides an int one: two choices, not a sort error
            chat_chunk(None, finish={"why": ["x"]}, tool=tool, usage={"total": [1, {"n": None}]}),
            {"error": ["not", "an", "object"]},
        ),
    )
    status, out, err = run("show", "--events", file)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[lines.index("text of choice 0:") + 1] == "  a"
    assert lines[lines.index('text of choice "0":') + 1] == "  b"
    assert '  7({})  id={"x":1}' in lines
    assert 'finish reason: {"why":["x"]}' in lines
    assert 'usage: {"total":[1,{"n":null}]}' in lines
    assert 'error in the stream: ["not","an","object"]' in lines


def test_diff_of_tool_call_names_that_are_not_strings(tmp_path: Path) -> None:
    def with_name(name: Any) -> dict[str, Any]:
        tool = {"index": 0, "id": "call_1", "function": {"name": name, "arguments": "{}"}}
        return stream(chat_chunk(None, tool=tool))

    old, new = put(tmp_path / "old", with_name("f")), put(tmp_path / "new", with_name({"n": 7}))
    status, out, err = run("diff", old, new)
    assert (status, err) == (1, "")
    assert out.splitlines()[-4:-1] == [
        "  responses[0] stream tool calls:",
        "    - f({})",
        '    + {"n":7}({})',
    ]


# -- a small fuzz: every event field of every stream dialect, every odd type ---------------------


CHAT = stream(
    chat_chunk("Hello", id="c1"),
    chat_chunk(
        None,
        tool={"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a"'}},
    ),
    chat_chunk(None, tool={"index": 0, "function": {"arguments": ":1}"}}, finish="tool_calls"),
    {"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    {"error": {"message": "boom", "type": "server_error"}},
)
RESPONSES = stream(
    {"type": "response.output_text.delta", "delta": "hi"},
    {
        "type": "response.output_item.added",
        "output_index": 1,
        "item": {"type": "function_call", "call_id": "c1", "name": "g", "arguments": ""},
    },
    {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{}"},
    {
        "type": "response.completed",
        "response": {"status": "completed", "usage": {"input_tokens": 3}, "incomplete_details": None},
    },
    done=False,
)
ANTHROPIC = stream(
    {"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "yo"}},
    {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "tool_use", "id": "tu", "name": "h"},
    },
    {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{}"}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    done=False,
)
OLLAMA = cassette(
    {
        "status": 200,
        "headers": {"content-type": "application/x-ndjson"},
        "is_streaming": True,
        "stream_format": "ndjson",
        "body": [
            {
                "__data__": {
                    "message": {
                        "content": "a",
                        "tool_calls": [{"function": {"name": "t", "arguments": {"x": 1}}}],
                    },
                    "done": False,
                }
            },
            {"__data__": {"response": "b", "done": True, "done_reason": "stop", "eval_count": 3}},
        ],
        "offsets_ms": [1.0, 2.0],
    }
)


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``value`` (itself excluded)."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, inner in items:
        found.append((*path, key))
        found.extend(places(inner, (*path, key)))
    return found


def replaced(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    target: Any = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


@pytest.mark.parametrize("dialect", ["chat", "responses", "anthropic", "ollama"])
def test_every_event_field_of_any_type_never_raises(tmp_path: Path, dialect: str) -> None:
    base = {"chat": CHAT, "responses": RESPONSES, "anthropic": ANTHROPIC, "ollama": OLLAMA}[dialect]
    before = put(tmp_path / "before", base)
    events = base["responses"][0]["body"]
    for number, event in enumerate(events):
        for path in places(event["__data__"]):
            for value in ODD_VALUES:
                where = ("responses", 0, "body", number, "__data__", *path)
                after = put(tmp_path / "after", replaced(base, where, value))
                for argv in (  # ls reads no event data; show without --events prints a part of it
                    ("show", "--events", after),
                    ("diff", before.parent, after.parent),
                    ("diff", "--all", "--full", after, before),
                    ("verify", after.parent),
                ):
                    status, _, err = run(*argv)
                    assert status in (0, 1), (argv[0], where, value, err)


def test_terminal_escapes_from_a_file_are_shown_not_sent(tmp_path: Path) -> None:
    # An ESC sequence in a stream's text (here: set the clipboard, then clear the screen) reaches the
    # terminal as visible escapes.
    hostile = "hi\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b"
    file = put(tmp_path, stream({"choices": [{"index": 0, "delta": {"content": hostile}}]}))
    status, out, _ = run("show", file)
    assert status == 0
    assert "hi\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x9b" in out
    assert "\x1b" not in out
    assert "\x9b" not in out


def test_bidirectional_overrides_from_a_file_are_shown_not_sent(tmp_path: Path) -> None:
    # A Trojan Source trick: text that reads in another order than it is.
    hostile = "safe \u202eevil\u202c \u2066x\u2069"
    file = put(tmp_path, stream({"choices": [{"index": 0, "delta": {"content": hostile}}]}))
    status, out, _ = run("show", file)
    assert status == 0
    assert "\\u202eevil\\u202c" in out
    assert not any(c in out for c in "\u202e\u202c\u2066\u2069")


@pytest.mark.parametrize("command", ["scan", "prune"])
def test_a_cassette_root_that_is_a_symbolic_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # A link committed in the project could point the command anywhere: to read secrets, or to delete.
    outside = tmp_path / "outside"
    put(outside, cassette({"status": 200, "body": {"ok": True}}))
    project = tmp_path / "project"
    project.mkdir()
    (project / "cassettes").symlink_to(outside, target_is_directory=True)
    (project / "usage.json").write_text(json.dumps({"complete": True, "used": [], "directories": []}))
    monkeypatch.chdir(project)
    argv = ["scan", "cassettes"] if command == "scan" else ["prune", "cassettes", "--used-by", "usage.json"]
    status, _, err = run(*argv)
    assert status == 1
    assert "it is a symbolic link" in err
    assert list(outside.glob("*.json"))  # nothing deleted through it


def test_rich_markup_in_a_file_is_printed_as_text(tmp_path: Path) -> None:
    data = cassette({"status": 200, "body": {"ok": True}})
    data["request"]["url"] = "https://api.test/v1/[/x]"
    data["meta"] = {"recorded_at": "[bold]2026[/bold]"}
    put(tmp_path, data)
    out, err = io.StringIO(), io.StringIO()
    status = main(["ls", str(tmp_path)], Console(out, err, fancy=True, width=200))
    assert status == 0, err.getvalue()
    assert "[/x]" in out.getvalue()
    assert "[bold]2026[/bold]" in out.getvalue()


@pytest.mark.parametrize("command", ["ls", "verify", "scan"])
def test_a_file_name_that_is_no_utf8_is_shown_escaped(tmp_path: Path, command: str) -> None:
    # git stores names as bytes: a name that is no UTF-8 reaches Python as lone surrogates, which a
    # UTF-8 terminal cannot take (printing one raised) and a C-locale one would get raw (0x9b is CSI).
    name = os.fsdecode(b"post-\x9b\xff-aaaaaaaaaaaa.json")
    (tmp_path / name).write_text(json.dumps(cassette({"status": 200, "body": {"ok": True}})))
    status, out, err = run(command, tmp_path)
    assert status in (0, 1)
    (out + err).encode("utf-8")  # nothing a UTF-8 terminal refuses
    assert "\\udc9b\\udcff" in out + err or command != "ls"
