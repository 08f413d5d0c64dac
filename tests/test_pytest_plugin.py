"""The pytest plugin, driven through pytester: inner test suites record against the local OpenAI-wire
server, then replay with ``API_URL`` pointing at a port where nothing listens.

Inner runs are in-process (fast); only the pytest-xdist runs need a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from httpx_cassette.cli.prune import read_report
from tests.pytester_project import INI
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

DEAD = "http://127.0.0.1:9/v1"  # nothing listens there: replay must not need the server


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)


def folders(root: Path) -> list[str]:
    """Every cassette directory (a folder holding JSON files) under ``root``, relative, sorted."""
    return sorted({file.parent.relative_to(root).as_posix() for file in root.rglob("*.json")})


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_URL", DEAD)


# -- layout, record then replay --------------------------------------------------------------------

LAYOUT = """
import httpx
import openai
import pytest

@pytest.mark.cassette
def test_plain(api):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.cassette  # a class marker applies to every method
class TestGroup:
    def test_method(self, api):
        assert httpx.get(f"{api}/models/gpt-4o").json()["id"] == "gpt-4o"

LONG = "What's the weather in Paris, France, today? Tell me in detail"

@pytest.mark.parametrize("text", ["short", LONG])
def test_param(api, cassette, text):
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    reply = httpx.post(f"{api}/chat/completions", json=body)
    assert reply.json()["choices"][0]["message"]["content"] == f"Echo: {text}"
    assert len(cassette.recorded if cassette.mode == "record" else cassette.played) == 1

@pytest.mark.cassette
def test_openai_default_client(api):
    client = openai.OpenAI(base_url=api, api_key="sk-test-fake", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Echo: hi"
"""


def test_each_test_gets_its_own_cassette_recorded_then_replayed_offline(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_layout=LAYOUT)
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=5)
    long_id = "What's the weather in Paris, France, today? Tell me in detail"
    digest = hashlib.sha256(long_id.encode()).hexdigest()[:8]
    assert folders(inner.path / "cassettes") == sorted(
        [
            "test_layout/TestGroup.test_method",
            "test_layout/test_openai_default_client",
            "test_layout/test_param-short",
            f"test_layout/test_param-What_s_the_weather_in_Paris_Fra-{digest}",
            "test_layout/test_plain",
        ]
    )
    offline(monkeypatch)
    result = run(inner)
    result.assert_outcomes(passed=5)
    assert "cassette directories no test used" not in result.stdout.str()


def test_header_names_the_mode_and_what_a_vcrpy_alias_maps_to(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_nothing="def test_nothing(): pass")
    result = run(inner, "--cassette-mode", "new_episodes")
    result.stdout.fnmatch_lines(  # "*": a plugin with pytest-recording's names (cassetter) is named first
        [
            "httpx_cassette: *mode new_episodes (record-missing: replay what is recorded, record the rest)"
            " from --cassette-mode*"
        ]
    )
    result = run(inner, "-o", "cassette_mode=all", "--cassette-block-network")
    result.stdout.fnmatch_lines(
        [
            "httpx_cassette: *mode all (record: record every request again) from cassette_mode ini option,"
            " network blocked*"
        ]
    )
    assert len([line for line in result.stdout.lines if line.startswith("httpx_cassette:")]) == 1


# -- modes and their vcrpy aliases -----------------------------------------------------------------

MODES = """
import os
import httpx
import pytest

@pytest.mark.cassette
def test_models(api, cassette):
    for model in os.environ.get("MODELS", "gpt-4o").split():
        httpx.get(f"{api}/models/{model}")
    print(f"MODE={cassette.mode} PLAYED={len(cassette.played)} RECORDED={len(cassette.recorded)}")
"""


def modes_run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, str]:
    result = run(pytester, "-s", *args)
    found = re.search(r"MODE=\S+ PLAYED=\d+ RECORDED=\d+", result.stdout.str())
    return result, found.group(0) if found else ""


def test_mode_aliases(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    inner.makepyfile(test_modes=MODES)
    folder = inner.path / "cassettes" / "test_modes" / "test_models"

    # once: records an empty cassette, replays one that has recordings
    assert modes_run(inner, "--cassette-mode", "once")[1] == "MODE=record PLAYED=0 RECORDED=1"
    assert modes_run(inner, "--cassette-mode", "once")[1] == "MODE=replay PLAYED=1 RECORDED=0"
    # none = replay: a new request is a miss
    monkeypatch.setenv("MODELS", "gpt-4o gpt-4o-mini")
    result, _ = modes_run(inner, "--cassette-mode", "none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CassetteMiss: no recording for GET /v1/models/gpt-4o-mini in cassette*"])
    # new_episodes = record-missing: replays the old one, records the new one
    assert modes_run(inner, "--cassette-mode", "new_episodes")[1] == "MODE=record-missing PLAYED=1 RECORDED=1"
    # all = record: records both again
    assert modes_run(inner, "--cassette-mode", "all")[1] == "MODE=record PLAYED=0 RECORDED=2"
    assert len(list(folder.glob("*.json"))) == 2
    # rewrite: empties the cassette first, so the request no longer made is gone
    monkeypatch.setenv("MODELS", "gpt-4o")
    assert modes_run(inner, "--cassette-mode", "rewrite")[1] == "MODE=record PLAYED=0 RECORDED=1"
    [file] = folder.glob("*.json")
    assert file.name.startswith("get-models-gpt-4o-")
    # the environment variable, then the ini option, give the mode when the command line does not
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "record")
    assert modes_run(inner, "-o", "cassette_mode=replay")[1] == "MODE=record PLAYED=0 RECORDED=1"
    monkeypatch.delenv("HTTPX_CASSETTE_MODE")
    assert modes_run(inner, "-o", "cassette_mode=replay")[1] == "MODE=replay PLAYED=1 RECORDED=0"


def test_rewrite_of_a_shared_cassette_keeps_what_this_run_recorded(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_shared="""
        import httpx
        import pytest

        @pytest.mark.cassette("shared")
        def test_one(api):
            httpx.get(f"{api}/models/gpt-4o")

        @pytest.mark.cassette("shared")
        def test_two(api):
            httpx.get(f"{api}/models/gpt-4o-mini")
        """
    )
    folder = inner.path / "cassettes" / "test_shared" / "shared"
    stale(folder.parent, "shared")  # an old recording no test makes any more
    run(inner, "--cassette-mode", "rewrite").assert_outcomes(passed=2)
    names = sorted(file.name.rsplit("-", 1)[0] for file in folder.glob("*.json"))
    assert names == ["get-models-gpt-4o", "get-models-gpt-4o-mini"]


def test_marker_options_win_and_bad_ones_are_reported(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_marker="""
        import httpx
        import pytest

        @pytest.mark.cassette("shared/models", mode="record-missing")
        def test_custom_path(api, cassette):
            httpx.get(f"{api}/models")
            assert cassette.mode == "record-missing"

        @pytest.mark.cassette(modee="record")
        def test_typo(): pass

        @pytest.mark.cassette(mode="sometimes")
        def test_bad_mode(): pass
        """
    )
    result = run(inner)  # --cassette-mode would win over the marker (docs/reference/configuration.md)
    result.assert_outcomes(passed=1, errors=2)
    assert folders(inner.path / "cassettes") == ["test_marker/shared/models"]
    result.stdout.fnmatch_lines(
        [
            "*test_marker.py::test_typo: unknown @pytest.mark.cassette option 'modee'; use path,"
            " config, mode, include_host, ignore_json_paths, match_headers, strict_repeats,"
            " replay_timing, replay_chunks, max_inline_bytes, redact_json_paths, redact_headers,"
            " placeholders, restore_unsealed, allow_secrets, scope, format, ignore_hosts, ignore_localhost,"
            " match_on, before_record_request,"
            " before_record_response, max_age, strict_age, ignore, ignore_defaults, unused, caught_errors",
            "*test_marker.py::test_bad_mode: unknown cassette mode 'sometimes' in the cassette marker:"
            " use one of replay, record, record-missing, live, none, once, new_episodes, all, rewrite",
        ]
    )


def test_cassette_dir_from_ini_and_command_line(
    inner: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    inner.mkpydir("sub")
    (inner.path / "sub" / "test_where.py").write_text(
        "import httpx, pytest\n\n"
        "@pytest.mark.cassette\ndef test_where(api):\n    httpx.get(f'{api}/models')\n"
    )
    run(inner, "--cassette-mode", "record", "-o", "cassette_dir=recordings").assert_outcomes(passed=1)
    assert folders(inner.path) == ["sub/recordings/test_where/test_where"]
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    run(inner, "--cassette-mode", "record", f"--cassette-dir={elsewhere}").assert_outcomes(passed=1)
    assert folders(elsewhere) == ["sub/test_where/test_where"]


# -- async tests -----------------------------------------------------------------------------------

ASYNC = """
import httpx
import openai
import pytest

@pytest.mark.asyncio
@pytest.mark.cassette
async def test_pytest_asyncio(api):
    # Closed here: pytester runs in this process, and an SDK client left to the garbage collector
    # closes its pooled connection on whatever event loop runs then (a later test's), which fails.
    async with openai.AsyncOpenAI(base_url=api, api_key="sk-test-fake", max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "async words"}], stream=True
        )
        words = [c.choices[0].delta.content async for c in stream if c.choices]
    assert words == ["", "Echo:", " async", " words", None]

@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param

@pytest.mark.anyio
async def test_anyio(api, cassette):
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{api}/models/gpt-4o")).json()["id"] == "gpt-4o"
    assert len(cassette.played) + len(cassette.recorded) == 1
"""


def test_async_tests_with_pytest_asyncio_and_anyio(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_async=ASYNC)
    # Both anyio backends are named here, not left to anyio: it runs every backend it finds
    # installed, so the count would change with the machine.
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=3)
    assert folders(inner.path / "cassettes") == [
        "test_async/test_anyio-asyncio",
        "test_async/test_anyio-trio",
        "test_async/test_pytest_asyncio",
    ]
    offline(monkeypatch)
    run(inner).assert_outcomes(passed=3)


# -- misses ----------------------------------------------------------------------------------------

MISSES = """
import httpx
import pytest

@pytest.mark.cassette
def test_plain_miss(api):
    httpx.get(f"{api}/models")

class ConnectionFailed(Exception):
    pass

@pytest.mark.cassette
def test_wrapped_miss(api):
    try:
        httpx.get(f"{api}/models")
    except Exception as exc:  # what SDKs do with transport errors
        raise ConnectionFailed("Connection error.") from exc

@pytest.mark.cassette
def test_swallowed_miss(api):
    try:
        httpx.get(f"{api}/models")
    except Exception:
        pass
"""


def test_a_replay_miss_fails_the_test_with_its_message_even_when_wrapped_or_swallowed(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(test_misses=MISSES)
    result = run(inner)
    result.assert_outcomes(failed=3)
    folder = inner.path / "cassettes" / "test_misses"
    advice = (  # the plugin's default mode: both the variable and the option
        "to record it: run with HTTPX_CASSETTE_MODE=record-missing, or rerun pytest with"
        " --cassette-mode record-missing"
    )
    for test, last in [
        ("test_plain_miss", []),
        ("test_wrapped_miss", ["*  the caller saw it as test_misses.ConnectionFailed: Connection error."]),
        (
            "test_swallowed_miss",
            ["*  the code under test caught this error, so the test did not fail by itself"],
        ),
    ]:
        result.stdout.fnmatch_lines(
            [
                f"E   *httpx_cassette.errors.CassetteMiss: no recording for GET /v1/models in cassette"
                f" {folder}/{test} (the directory does not exist)",
                "*  canonical body: null",
                "*  hint: check the path, or record into it",
                f"*  {advice}",
                *last,
            ]
        )
    assert "passed as the mode argument" not in result.stdout.str()
    assert "mode='record-missing'" not in result.stdout.str()  # no CassetteTransport advice under pytest


EXPECTED = """
import httpx
import pytest

from httpx_cassette import CassetteMiss, NetworkBlocked

def fetch_or_default(api):
    try:
        return httpx.get(f"{api}/models").json()
    except Exception:
        return []  # an offline fallback

@pytest.mark.cassette
def test_expected_miss(api):
    with pytest.raises(CassetteMiss):
        httpx.get(f"{api}/models")

@pytest.mark.cassette(caught_errors="fail")
def test_marker_wins(api):
    assert fetch_or_default(api) == []

def test_fallback_when_blocked(api):
    assert fetch_or_default(api) == []

def test_blocked_raises(api):
    with pytest.raises(NetworkBlocked):
        httpx.get(f"{api}/models")
"""


@pytest.mark.parametrize("where", ["ini", "marker"])
def test_caught_errors_pass_lets_a_test_that_expects_a_miss_or_a_block_pass(
    inner: pytest.Pytester, where: str
) -> None:
    """pytest-recording lets a test that caught a blocked request pass; ``cassette_caught_errors =
    pass`` (or a marker's ``caught_errors="pass"``) does the same, the default still fails it."""
    inner.makepyfile(test_expected=EXPECTED)
    run(inner, "--cassette-block-network").assert_outcomes(failed=4)  # the default: each caught error
    if where == "ini":
        inner.makeini(INI + "cassette_caught_errors = pass\n")
        result = run(inner, "--cassette-block-network")
        result.assert_outcomes(passed=3, failed=1)
        result.stdout.fnmatch_lines(["*test_marker_wins*", "*the code under test caught this error*"])
    else:
        inner.makepyfile(
            test_expected=EXPECTED.replace(
                "@pytest.mark.cassette\n", '@pytest.mark.cassette(caught_errors="pass")\n'
            )
        )
        run(inner, "--cassette-block-network").assert_outcomes(passed=1, failed=3)


def test_a_bad_caught_errors_value_is_a_usage_error(inner: pytest.Pytester) -> None:
    inner.makeini(INI + "cassette_caught_errors = maybe\n")
    result = run(inner)
    result.stderr.fnmatch_lines(["*cassette_caught_errors = 'maybe': use one of fail, pass*"])


# -- unused recordings, failed recordings ----------------------------------------------------------


def test_unused_recordings_warn_fail_or_are_ignored(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_modes=MODES)
    monkeypatch.setenv("MODELS", "gpt-4o gpt-4o-mini")
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=1)
    [unused_file] = (inner.path / "cassettes" / "test_modes" / "test_models").glob(
        "get-models-gpt-4o-mini-*.json"
    )
    monkeypatch.setenv("MODELS", "gpt-4o")
    message = [
        "*cassette cassettes/test_modes/test_models has 1 recording(s) this test did not use:",
        f"*  {unused_file.name}",
        "*  re-record it (--cassette-mode rewrite) or delete them",
    ]
    warned = run(inner)
    warned.assert_outcomes(passed=1, warnings=1)
    warned.stdout.fnmatch_lines(
        ["*CassetteUnusedWarning: cassette cassettes/test_modes/test_models*", *message[1:]]
    )
    failed = run(inner, "-o", "cassette_unused=fail")
    failed.assert_outcomes(passed=1, errors=1)
    failed.stdout.fnmatch_lines(["*ERROR at teardown of test_models*", *message])
    inner.makepyfile(
        test_modes=MODES.replace("@pytest.mark.cassette", "@pytest.mark.cassette(unused='ignore')")
    )
    run(inner, "-o", "cassette_unused=fail").assert_outcomes(passed=1)


FAILING = """
import os
import httpx
import pytest

@pytest.mark.cassette
def test_records_then_fails(api):
    httpx.get(f"{api}/models")
    httpx.get(f"{api}/models/gpt-4o")
    assert os.environ.get("FAIL") != "1"
"""


def test_a_failed_test_leaves_no_half_recorded_cassette(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_failing=FAILING)
    folder = inner.path / "cassettes" / "test_failing" / "test_records_then_fails"
    monkeypatch.setenv("FAIL", "1")
    run(inner, "--cassette-mode", "record").assert_outcomes(failed=1)
    assert not folder.exists()
    run(inner, "--cassette-mode", "record", "--cassette-keep-failed").assert_outcomes(failed=1)
    assert len(list(folder.glob("*.json"))) == 2
    # a failed re-recording puts back what was there: a hand-edited file survives, a new file goes
    [models] = folder.glob("get-models-[0-9a-f]*.json")
    models.write_text(models.read_text().replace('"object": "list"', '"object": "hand-edited"'))
    (folder / f"{models.stem}.0.bin").write_bytes(b"old side file")
    [gpt] = folder.glob("get-models-gpt-4o-*.json")
    gpt.unlink()
    before = {file.name: file.read_bytes() for file in folder.iterdir()}
    run(inner, "--cassette-mode", "record").assert_outcomes(failed=1)
    assert {file.name: file.read_bytes() for file in folder.iterdir()} == before
    monkeypatch.setenv("FAIL", "0")
    run(inner, "--cassette-mode", "record-missing").assert_outcomes(passed=1)
    assert len(list(folder.glob("*.json"))) == 2
    assert "hand-edited" in models.read_text()


# -- blocking the network --------------------------------------------------------------------------

BLOCKED = """
import httpx
import pytest

def test_no_cassette(api):
    httpx.get(f"{api}/models")

def test_wrapped(api):
    try:
        httpx.get(f"{api}/models")
    except Exception as exc:
        raise RuntimeError("Connection error.") from exc

@pytest.mark.cassette(mode="record-missing")
def test_recording_is_allowed(api):
    assert httpx.get(f"{api}/models").status_code == 200

@pytest.mark.cassette(mode="live")
def test_live(api):
    pass
"""


def test_block_network(inner: pytest.Pytester, openai_server: LiveServer[OpenAIApp]) -> None:
    inner.makepyfile(test_blocked=BLOCKED)
    result = run(inner, "--cassette-block-network")
    result.assert_outcomes(passed=1, failed=2, errors=1)
    blocked = (
        f"network blocked (--cassette-block-network): GET {openai_server.base_url}/models was not served"
        " from a cassette; give the test a cassette (@pytest.mark.cassette or the cassette fixture) and"
        " record it, or let the host through with the cassette_ignore_hosts / cassette_ignore_localhost"
        " ini options"
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_no_cassette _*",
            f"E   *httpx_cassette.errors.NetworkBlocked: {blocked}",
            "*_ test_wrapped _*",
            f"E   *httpx_cassette.errors.NetworkBlocked: {blocked}",
            "*  the caller saw it as RuntimeError: Connection error.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at setup of test_live _*",
            "test_blocked.py::test_live: cassette mode live cannot run under --cassette-block-network",
        ]
    )
    result = run(inner, "--cassette-block-network", "-o", "cassette_ignore_localhost=true", "-k", "not live")
    result.assert_outcomes(passed=3)
    result = run(
        inner,
        "--cassette-block-network",
        "-o",
        "cassette_ignore_hosts=example.test 127.0.0.1",
        "-k",
        "not live",
    )
    result.assert_outcomes(passed=3)
    result = run(inner, "--cassette-block-network", "--cassette-mode", "live")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --cassette-block-network cannot be combined with cassette mode live"]
    )


# -- unused directories, prune, usage report -------------------------------------------------------

PRUNE = """
import httpx
import pytest

@pytest.mark.cassette
def test_kept(api):
    httpx.get(f"{api}/models")

@pytest.mark.parametrize("model", ["gpt-4o"])
def test_param(api, cassette, model):
    httpx.get(f"{api}/models/{model}")

def test_deselected():
    pass
"""


def stale(root: Path, *folders: str) -> None:
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "get-models-000000000000.json").write_text("{}")


def test_unused_directories_are_listed_and_pruned(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_prune=PRUNE)
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=3)
    root = inner.path / "cassettes"
    gone = ["test_prune/test_renamed", "test_prune/test_param-gpt-3", "test_deleted_module/test_x/sub"]
    kept = [
        "test_prune/test_deselected",
        "test_prune/shared",
        "test_prune/test_kept",
        "test_prune/test_param-gpt-4o",
    ]
    stale(root, *gone, "test_prune/test_deselected", "test_prune/shared")

    listed = run(inner, "-k", "not deselected")
    listed.assert_outcomes(passed=2, deselected=1)
    listed.stdout.fnmatch_lines(
        [
            "*- httpx_cassette: 3 cassette directories no test used (delete with --cassette-prune) -*",
            "  cassettes/test_deleted_module",
            "  cassettes/test_prune/test_param-gpt-3",
            "  cassettes/test_prune/test_renamed",
        ]
    )
    # a run of some tests of a module (file::test) judges no folder: the other tests were not collected
    partial = run(inner, "test_prune.py::test_kept", "--cassette-prune")
    partial.assert_outcomes(passed=1)
    assert "no test used" not in partial.stdout.str()
    assert folders(root) == sorted([*kept, *gone])

    pruned = run(inner, "--cassette-prune")
    pruned.assert_outcomes(passed=3)
    pruned.stdout.fnmatch_lines(["*- httpx_cassette: pruned 3 cassette directories no test used -*"])
    assert folders(root) == sorted(kept)
    assert not (root / "test_deleted_module").exists()


def test_prune_never_deletes_through_a_symbolic_link(inner: pytest.Pytester, tmp_path: Path) -> None:
    # A pull request can commit a link named like a test, or link a module's whole cassette folder.
    inner.makepyfile(test_prune=PRUNE)
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=3)
    outside = tmp_path / "outside"
    stale(outside, "precious", "module/test_gone")
    root = inner.path / "cassettes"
    (root / "test_prune" / "test_gone").symlink_to(outside / "precious", target_is_directory=True)
    (root / "test_deleted_module").symlink_to(outside / "module", target_is_directory=True)
    inner.makepyfile(test_linked="def test_a():\n    pass\n")
    (root / "test_linked").symlink_to(outside / "module", target_is_directory=True)

    pruned = run(inner, "--cassette-prune")
    pruned.assert_outcomes(passed=4)
    assert "no test used" not in pruned.stdout.str()
    assert (outside / "precious" / "get-models-000000000000.json").exists()
    assert (outside / "module" / "test_gone" / "get-models-000000000000.json").exists()
    assert (root / "test_prune" / "test_gone").is_symlink()


def test_usage_report_lists_used_files_for_the_cli(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_report="""
        import httpx
        import pytest
        from httpx_cassette import use_cassette

        @pytest.mark.cassette
        def test_plugin(api):
            httpx.get(f"{api}/models")

        @use_cassette("cassettes/by_hand", mode="record-missing")
        def test_use_cassette(api):
            httpx.get(f"{api}/models/gpt-4o")
        """
    )
    stale(inner.path / "cassettes", "test_report/test_old")
    run(inner, "--cassette-mode", "record", "--cassette-report", "out/usage.json").assert_outcomes(passed=2)
    report = json.loads((inner.path / "out" / "usage.json").read_text())
    [plugin_file] = (inner.path / "cassettes" / "test_report" / "test_plugin").glob("*.json")
    [by_hand_file] = (inner.path / "cassettes" / "by_hand").glob("*.json")
    assert report == {
        "version": 1,
        "complete": True,
        "not_run": 0,
        "used": sorted(
            [
                f"../cassettes/by_hand/{by_hand_file.name}",
                f"../cassettes/test_report/test_plugin/{plugin_file.name}",
            ]
        ),
        "directories": ["../cassettes/by_hand", "../cassettes/test_report/test_plugin"],
        "unused_directories": ["../cassettes/test_report/test_old"],
        "kept": [],
    }
    evidence = read_report(inner.path / "out" / "usage.json")
    assert evidence.used == {plugin_file.resolve(), by_hand_file.resolve()}


# -- pytest-xdist ----------------------------------------------------------------------------------

XDIST = """
import httpx
import pytest

@pytest.mark.parametrize("n", range(8))
@pytest.mark.cassette("shared", mode="record-missing")
def test_shared(api, n):
    body = {"model": "m", "messages": [{"role": "user", "content": f"request {n}"}]}
    reply = httpx.post(f"{api}/chat/completions", json=body).json()
    assert reply["choices"][0]["message"]["content"] == f"Echo: request {n}"

@pytest.mark.parametrize("n", range(4))
def test_own(api, cassette, n):
    httpx.get(f"{api}/models/model-{n}")
"""


def test_xdist_workers_record_into_one_directory_and_prune_together(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_parallel=XDIST)
    root = inner.path / "cassettes"
    stale(root, "test_parallel/test_own-9", "test_parallel/test_gone")
    result = inner.runpytest_subprocess(
        "-p", "no:randomly", "-n", "2", "--cassette-mode", "record", "--cassette-prune",
        "--cassette-report", "usage.json",
    )  # fmt: skip
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*- httpx_cassette: pruned 2 cassette directories no test used -*"])
    shared = sorted((root / "test_parallel" / "shared").glob("*.json"))
    assert len(shared) == 8
    assert sorted(json.loads(f.read_text())["request"]["body"]["messages"][0]["content"] for f in shared) == [
        f"request {n}" for n in range(8)
    ]
    assert folders(root) == ["test_parallel/shared", *(f"test_parallel/test_own-{n}" for n in range(4))]
    report = json.loads((inner.path / "usage.json").read_text())
    assert report["complete"] is True
    assert len(report["used"]) == 12
    assert report["unused_directories"] == [
        "cassettes/test_parallel/test_gone",
        "cassettes/test_parallel/test_own-9",
    ]

    offline(monkeypatch)
    # Every recording is whole and used. Only our own warning is made an error: other plugins
    # (pytest-benchmark under xdist) warn in their own PytestWarning subclasses.
    unused_is_error = "error::httpx_cassette.pytest_plugin.CassetteUnusedWarning"
    run(inner, "-W", unused_is_error).assert_outcomes(passed=12)
