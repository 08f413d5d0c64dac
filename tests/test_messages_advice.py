"""What a miss advises: how to record, in the words of where the mode came from; whether a changed field is
one to leave out of the key or a sign of a stale recording; the folders next to a cassette directory that
does not exist; and the frames pytest hides. Also the options a `CassetteTransport` refuses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport
from httpx_cassette.config import SESSION_ONLY, CassetteConfig
from httpx_cassette.core.advice import directory_hints, looks_volatile, mode_hints, record_advice
from httpx_cassette.core.miss import MissReport
from httpx_cassette.errors import hidden_in_a_miss
from httpx_cassette.model.jsondiff import MISSING
from httpx_cassette.storage.files import folders_in

SYSTEM = "You are a helpful assistant. Answer in French. Be concise."


def body(**changes: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Say hi"}],
        "request_id": "r-1",
        "metadata": {"trace_id": "t-1"},
        **changes,
    }


def record(path: Path, *bodies: dict[str, Any]) -> Path:
    transport = CassetteTransport(
        path, mode="record", inner=httpx.MockTransport(lambda r: httpx.Response(200, json={}))
    )
    with httpx.Client(transport=transport) as client:
        for sent in bodies:
            client.post("https://api.test/v1/chat/completions", json=sent)
    return path


def miss(
    path: Path,
    sent: dict[str, Any] | None = None,
    *,
    mode: str | None = "replay",
    plugin: tuple[str, ...] = (),
) -> CassetteMiss:
    transport = CassetteTransport(path, mode=mode)  # type: ignore[arg-type]
    if plugin:
        transport.cassette.set_mode_source(*plugin)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteMiss) as info:
        client.post("https://api.test/v1/chat/completions", json=sent if sent is not None else body())
    return info.value


def hints(error: CassetteMiss) -> list[str]:
    return [line.removeprefix("  hint: ") for line in str(error).splitlines() if line.startswith("  hint: ")]


def last(error: CassetteMiss) -> str:
    return str(error).splitlines()[-1].removeprefix("  to record it: ")


# -- how to record, by where the mode came from ----------------------------------------------------


ENV = "HTTPX_CASSETTE_MODE"
ENTRIES = "CassetteTransport / use_cassette"
ARGUMENT = "mode='record-missing'"
OVER = "(it wins over the"
RERUN = "rerun pytest with --cassette-mode record-missing"


@pytest.mark.parametrize(
    ("source", "given", "has_recordings", "advice"),
    [
        ("argument", None, True, f"pass mode='record-missing' instead of mode='replay' (to {ENTRIES})"),
        ("environment", "replay", True, f"run with {ENV}=record-missing"),
        ("default", None, True, f"run with {ENV}=record-missing (or pass {ARGUMENT} to {ENTRIES})"),
        ("pytest:--cassette-mode", "none", True, RERUN),
        ("pytest:--record-mode", "none", True, "rerun pytest with --record-mode=new_episodes"),
        ("pytest:--record-mode", "none", False, "rerun pytest with --record-mode=once"),
        (f"pytest:${ENV}", "none", True, f"run with {ENV}=record-missing"),
        ("pytest:default", None, True, f"run with {ENV}=record-missing, or {RERUN}"),
        ("pytest:marker", "none", True, f"{RERUN} {OVER} mode the test's marker sets)"),
        ("pytest:fixture", "replay", True, f"{RERUN} {OVER} mode the cassette_config fixture sets)"),
        ("pytest:cassette_mode ini option", "replay", True, f"{RERUN} {OVER} cassette_mode ini option)"),
        ("pytest", None, True, RERUN),  # the plugin, the source unsaid
    ],
)  # fmt: skip
def test_the_way_to_record_follows_the_source_of_the_mode(
    source: str, given: str | None, has_recordings: bool, advice: str
) -> None:
    assert record_advice(source, given, has_recordings) == advice


def test_why_nothing_was_recorded_names_the_source() -> None:
    assert mode_hints("replay", "pytest:--record-mode", "none") == [
        "this run passed --record-mode=none, which replays this cassette, so nothing is recorded"
    ]
    assert mode_hints("replay", "pytest:--cassette-mode", "replay") == [
        "this run passed --cassette-mode replay, which replays this cassette, so nothing is recorded"
    ]
    assert mode_hints("replay", f"pytest:${ENV}", "none") == [
        f"{ENV}=none is set in the environment, so nothing is recorded"
    ]
    assert mode_hints("replay", "pytest:default", None) == []
    assert mode_hints("record-missing", "argument", None) == []


def test_a_mode_argument_is_the_only_thing_the_message_tells_to_change(tmp_path: Path) -> None:
    error = miss(record(tmp_path, body()), body(request_id="r-2"))
    text = str(error)
    assert "the mode 'replay' was passed as the mode argument, which wins over HTTPX_CASSETTE_MODE" in hints(
        error
    )
    assert last(error).startswith("pass mode='record-missing' instead of mode='replay'")
    assert f"{ENV}=record-missing" not in text  # setting the variable would change nothing


def test_the_environment_is_named_with_the_value_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(tmp_path, body())
    monkeypatch.setenv(ENV, "replay")
    error = miss(tmp_path, body(request_id="r-2"), mode=None)
    assert f"{ENV}=replay is set in the environment, so nothing is recorded" in hints(error)
    assert last(error) == f"run with {ENV}=record-missing"
    assert "mode=" not in last(error)


@pytest.mark.parametrize(
    ("plugin", "advice"),
    [
        (("--record-mode", "none"), "rerun pytest with --record-mode=new_episodes"),
        (("--cassette-mode", "replay"), "rerun pytest with --cassette-mode record-missing"),
        (("default",), f"run with {ENV}=record-missing, or rerun pytest with --cassette-mode record-missing"),
    ],
)
def test_under_the_plugin_the_command_line_is_named(
    tmp_path: Path, plugin: tuple[str, ...], advice: str
) -> None:
    error = miss(record(tmp_path, body()), body(request_id="r-2"), plugin=plugin)
    assert last(error) == advice
    assert "mode argument" not in str(error)
    assert "mode='record-missing'" not in str(error)  # no argument to pass: the plugin opened the cassette


def test_record_mode_once_is_advised_only_for_a_cassette_without_recordings(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    error = miss(tmp_path / "empty", plugin=("--record-mode", "none"))
    assert last(error) == "rerun pytest with --record-mode=once"  # once records into an empty cassette


# -- a body that changed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "old", "new"),
    [
        ("request_id", "r-1", "r-2"),
        ("id", 1, 2),
        ("messages[3].id", "m-1", "m-2"),
        ("created_at", 1, 2),
        ("timestamp", "a", "b"),
        ("sent_timestamp_ms", 1, 2),
        ("seed", 1, 2),
        ("user", "alice", "bob"),
        ("metadata.run", "a", "b"),
        ("nonce", "a", "b"),
        ("extra.start_time", 1, 2),
        ("extra.when", "2024-01-01", "2024-01-02"),
        ("extra.when", "2024-01-01T10:00:00Z", "2024-01-01T10:00:05+00:00"),
        ("extra.ref", "0b3e4d64-2f5b-4c4e-9d3f-1a2b3c4d5e6f", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
        ("extra.sent", 1718000000, 1718000005),
    ],
)
def test_volatile_looking_fields(where: str, old: Any, new: Any) -> None:
    assert looks_volatile(where, old, new)


@pytest.mark.parametrize(
    ("where", "old", "new"),
    [
        ("messages[0].content", "Answer in French.", "Answer in German."),
        ("messages[0].content", "2024-01-01", "2024-01-02"),  # a date in the prompt is the prompt
        ("input", "a", "b"),
        ("prompt", "a", "b"),
        ("system", "a", "b"),
        ("instructions", "a", "b"),
        ("model", "gpt-4o", "gpt-4o-mini"),
        ("temperature", 0.0, 0.2),
        ("tools[0].function.name", "a", "b"),
        ("max_tokens", 10, 20),
        ("extra.when", MISSING, "2024-01-02"),  # a field added is no value that changes
        ("extra.flag", True, False),
        ("", {"a": 1}, "a=1"),  # the body as a whole
    ],
)
def test_fields_that_make_the_request_what_it_is(where: str, old: Any, new: Any) -> None:
    assert not looks_volatile(where, old, new)


def test_a_changed_prompt_is_a_stale_recording_not_a_field_to_ignore(tmp_path: Path) -> None:
    record(tmp_path, body())
    changed = body(temperature=0.2)
    changed["messages"][0]["content"] = SYSTEM.replace("French", "German")
    error = miss(tmp_path, changed)
    assert (
        "the request changed (messages[0].content and temperature differ): the recording is stale, so record"
        " it again (as below) rather than leave what the code sends on purpose out of the key"
    ) in hints(error)
    assert "ignore_json_paths" not in str(error)


def test_volatile_fields_are_offered_to_leave_out_of_the_key(tmp_path: Path) -> None:
    error = miss(record(tmp_path, body()), body(request_id="r-2", metadata={"trace_id": "t-2"}))
    assert (
        "if request_id and metadata.trace_id change from run to run (an id, a timestamp, a random seed),"
        " leave them out of the key: CassetteTransport(...,"
        ' ignore_json_paths=["request_id", "metadata.trace_id"])'
    ) in hints(error)
    assert not any("stale" in hint for hint in hints(error))


def test_one_volatile_field_is_said_in_the_singular(tmp_path: Path) -> None:
    error = miss(record(tmp_path, body()), body(request_id="r-2"))
    assert hints(error)[0].startswith("if request_id changes from run to run (an id, a timestamp, a random")
    assert "leave it out of the key" in hints(error)[0]


def test_a_prompt_and_an_id_that_both_changed_get_one_hint_each(tmp_path: Path) -> None:
    record(tmp_path, body())
    changed = body(request_id="r-2", model="gpt-4o", n=2)
    error = miss(tmp_path, changed)
    assert hints(error)[0].startswith("the request changed (model and n differ): the recording is stale")
    assert hints(error)[1].startswith("if request_id changes from run to run")


def test_many_changed_fields_are_listed_with_a_count(tmp_path: Path) -> None:
    record(tmp_path, body())
    error = miss(tmp_path, body(model="a", temperature=1, top_p=1, stop="x", n=2))
    assert hints(error)[0].startswith(
        "the request changed (model, temperature, top_p and 2 more differ): the recording is stale"
    )


def test_under_the_plugin_the_ignore_hint_names_the_marker(tmp_path: Path) -> None:
    error = miss(record(tmp_path, body()), body(request_id="r-2"), plugin=("default",))
    assert hints(error)[0].endswith(
        'leave it out of the key: @pytest.mark.cassette(ignore_json_paths=["request_id"])'
    )


# -- a cassette directory that does not exist ------------------------------------------------------


def test_a_relative_path_says_where_it_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    error = miss(Path("cassettes/nope"))
    assert f"check the path (relative paths start at {tmp_path}), or record into it" in hints(error)
    assert str(error).count("does not exist") == 1


def test_a_typo_in_the_folder_name_gets_the_folder_that_exists(tmp_path: Path) -> None:
    (tmp_path / "quickstart").mkdir()
    (tmp_path / "unrelated").mkdir()
    error = miss(tmp_path / "quickstrat", mode=None)
    assert hints(error) == [
        "check the path, or record into it",
        f"did you mean {tmp_path / 'quickstart'}? (a folder next to it with a similar name)",
    ]


def test_a_folder_next_to_it_that_holds_the_very_request_is_named(tmp_path: Path) -> None:
    record(tmp_path / "custom-test_custom_name", body())  # pytest-recording's default_cassette_name
    record(tmp_path / "test_other", body(model="other"))
    error = miss(tmp_path / "test_custom_name", plugin=("default",))
    assert hints(error)[1] == (
        f"{tmp_path / 'custom-test_custom_name'} holds a recording of this very request: did you mean it?"
    )
    assert not any("test_other" in hint for hint in hints(error))


def test_the_folders_are_looked_into_only_when_there_are_few(tmp_path: Path) -> None:
    for i in range(201):
        (tmp_path / f"f{i:03}").mkdir()
    asked: list[Path] = []
    assert directory_hints(
        tmp_path / "test_unlike", folders_in(tmp_path), lambda f: bool(asked.append(f))
    ) == ["check the path, or record into it"]
    assert asked == []  # 201 folders: none is looked into
    (tmp_path / "f200").rmdir()
    directory_hints(tmp_path / "test_unlike", folders_in(tmp_path), lambda f: bool(asked.append(f)))
    assert len(asked) == 200
    assert all(folder.parent == tmp_path for folder in asked)  # nothing outside the parent


def test_a_folder_that_cannot_be_looked_into_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()

    def refuses(folder: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(folder))

    assert (
        directory_hints(tmp_path / "lockd", folders_in(tmp_path), refuses)[0]
        == "check the path, or record into it"
    )
    assert folders_in(tmp_path / "missing-parent") == []  # an unreadable or missing parent: no folders
    assert directory_hints(tmp_path / "missing-parent" / "x", [], refuses) == [
        "check the path, or record into it"
    ]


# -- the frames pytest shows -----------------------------------------------------------------------


def test_pytest_hides_the_cassette_frames_a_miss_passes_through(tmp_path: Path) -> None:
    transport = CassetteTransport(tmp_path, mode="replay")
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteMiss) as info:
        client.get("https://api.test/v1/models")
    every = [entry.path for entry in info.traceback]
    shown = [entry.path for entry in info.traceback.filter(info)]
    cassette_py = str(Path("httpx_cassette", "storage", "cassette.py"))
    assert any(str(path).endswith(cassette_py) for path in every)  # plan, _decide, _play
    assert not any(str(path).endswith(cassette_py) for path in shown)


def test_other_errors_keep_their_frames() -> None:
    with pytest.raises(ValueError) as info:  # noqa: PT011
        raise ValueError("a bug")
    assert hidden_in_a_miss(info) is False
    assert hidden_in_a_miss(None) is False
    with pytest.raises(CassetteMiss) as missed:
        raise CassetteMiss("no recording", MissReport(Path("x"), "GET", "/", {}))
    assert hidden_in_a_miss(missed) is True


# -- options a transport refuses -------------------------------------------------------------------


@pytest.mark.parametrize("name", SESSION_ONLY)
def test_use_cassette_only_options_are_refused_for_a_transport(name: str) -> None:
    value = {"ignore_hosts": ["a"], "ignore_localhost": True, "ignore": ["GET * /x"]}.get(name, False)
    with pytest.raises(
        TypeError, match=rf"CassetteTransport does not take {name}: .* use_cassette\(path, {name}="
    ):
        CassetteConfig.of(None, for_transport=True, **{name: value})
    assert CassetteConfig.of(None, **{name: value})  # use_cassette and the plugin take them


def test_a_transport_refuses_ignore_hosts(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="use_cassette"):
        CassetteTransport(tmp_path, ignore_hosts=["127.0.0.1"])


def test_the_plugin_source_is_kept_on_the_cassette(tmp_path: Path) -> None:
    transport = CassetteTransport(tmp_path, mode="replay")
    assert (transport.cassette.mode_source, transport.cassette.mode_given) == ("argument", None)
    transport.cassette.set_mode_source("--record-mode", "none")
    assert (transport.cassette.mode_source, transport.cassette.mode_given) == ("pytest:--record-mode", "none")
    assert os.fspath(transport.cassette.path) == os.fspath(tmp_path)
