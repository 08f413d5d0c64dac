"""The plugin under pytest-recording's names, the ``cassette_config`` fixture, the mode precedence,
the CI guard and recording age, driven through pytester against the local OpenAI-wire server."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console
from tests.pytester_project import (
    CONFTEST,
    vcr_project,  # noqa: F401 - the `inner` fixture
)
from tests.pytester_project import run_vcr as run

LONG = "test_ids[" + "x" * 300 + "]"  # pytest-recording shortens it to 255 characters with .yaml


def stored(root: Path) -> list[dict[str, object]]:
    return [json.loads(f.read_text()) for f in sorted(root.rglob("*.json"))]


def test_vcr_config_is_honoured_and_an_unknown_key_warns(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_cfg="""
        import httpx, pytest

        @pytest.fixture
        def vcr_config():
            return {
                "filter_query_parameters": ["session"],
                "filter_post_data_parameters": [("user", "anonymous")],
                "match_on": ["method", "path"],
                "allow_playback_repeats": False,
                "record_on_exception": False,
            }

        @pytest.mark.vcr
        def test_chat(api, vcr):
            httpx.post(f"{api}/chat/completions?session=s3cr3t",
                       json={"model": "m", "user": "alice", "messages": [{"role": "user", "content": "hi"}]})
            assert vcr.requests[-1].json()["user"] == "anonymous"
        """
    )
    result = run(inner, "--record-mode=once")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*vcr_config of test_cfg.py::test_chat: record_on_exception=false has no*"])
    (request,) = [f["request"] for f in stored(inner.path / "cassettes")]
    assert request["url"].endswith("/chat/completions")  # type: ignore[index]
    assert request["body"]["user"] == "anonymous"  # type: ignore[index]
    run(inner, "--record-mode=none").assert_outcomes(passed=1, warnings=1)


def test_cassette_config_fixture_merges_with_marker_and_nearest_wins(inner: pytest.Pytester) -> None:
    inner.makeconftest(
        CONFTEST
        + """
@pytest.fixture
def cassette_config():
    return {"redact_json_paths": ["user"], "mode": "record"}
"""
    )
    inner.makepyfile(
        test_layers="""
        import httpx, pytest
        from httpx_cassette.config import CassetteConfig, RedactConfig

        def chat(api):
            httpx.post(f"{api}/chat/completions", json={"model": "m", "user": "alice", "tag": "x",
                       "messages": [{"role": "user", "content": "hi"}]})

        @pytest.mark.cassette
        def test_suite_fixture(api, cassette):
            chat(api)
            assert cassette.mode == "record"

        @pytest.mark.cassette(mode="record-missing", redact_json_paths=["tag"])
        def test_marker_wins(api, cassette):
            chat(api)
            assert cassette.mode == "record-missing"

        class TestNearest:
            @pytest.fixture
            def cassette_config(self):
                return CassetteConfig(mode="live")

            @pytest.mark.cassette
            def test_class_fixture(self, api, cassette):
                assert cassette.mode == "live"
        """
    )
    run(inner).assert_outcomes(passed=3)
    files = {f.parent.name: json.loads(f.read_text()) for f in (inner.path / "cassettes").rglob("*.json")}
    assert files["test_suite_fixture"]["request"]["body"]["user"] == "REDACTED"
    marker = files["test_marker_wins"]["request"]["body"]
    assert (marker["user"], marker["tag"]) == ("alice", "REDACTED")  # the marker's list replaces
    result = run(inner, "--cassette-mode", "replay", "-k", "suite_fixture or marker_wins")  # option > marker
    result.assert_outcomes(passed=0, failed=2)


def test_ci_guard_stops_accidental_recording_and_allows_explicit_choices(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(
        test_ci="""
        import httpx, pytest

        @pytest.mark.cassette(mode="record-missing")
        def test_records(api):
            httpx.get(f"{api}/models")

        @pytest.mark.vcr(record_mode="new_episodes")
        def test_vcr_records(api):
            httpx.get(f"{api}/models")

        def test_after():  # the run goes on: only the tests that would record fail
            pass
        """
    )
    monkeypatch.setenv("CI", "true")
    stopped = run(inner)
    stopped.assert_outcomes(passed=1, errors=2)
    stopped.stdout.fnmatch_lines(
        [
            "*test_ci.py::test_records: cassette *would record (record-missing, from the marker)"
            " although $CI is set*",
            "*test_ci.py::test_vcr_records: cassette *would record (record-missing, from the marker)*",
        ]
    )
    assert "Exit" not in stopped.stdout.str()
    assert "During handling" not in stopped.stdout.str()  # the message is said once
    assert not (inner.path / "cassettes").exists()
    run(inner, "--cassette-mode", "record-missing").assert_outcomes(passed=3)
    run(inner, "--record-mode", "new_episodes").assert_outcomes(passed=3)
    inner.makeini("[pytest]\ncassette_mode = record\n")
    run(inner, "-k", "nothing").stderr.fnmatch_lines(["*would record (record, from the cassette_mode ini*"])
    inner.makeini("[pytest]\ncassette_ci_guard = false\n")
    run(inner).assert_outcomes(passed=3)


def test_max_age_warns_then_fails_under_strict_age(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_age="""
        import httpx, pytest

        @pytest.mark.cassette
        def test_models(api):
            httpx.get(f"{api}/models")
        """
    )
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=1)
    for file in (inner.path / "cassettes").rglob("*.json"):
        data = json.loads(file.read_text())
        data["meta"]["recorded_at"] = "2021-06-01T00:00:00+00:00"
        file.write_text(json.dumps(data))
    inner.makeini("[pytest]\ncassette_max_age = 90d\n")
    warned = run(inner)
    warned.assert_outcomes(passed=1, warnings=1)
    warned.stdout.fnmatch_lines(["*CassetteAgeWarning: cassette file *get-models-*.json was recorded * ago*"])
    failed = run(inner, "--cassette-strict-age")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*CassetteExpired: cassette file *get-models-*.json was recorded * ago*"])
    old, recent = io.StringIO(), io.StringIO()
    cassettes = str(inner.path / "cassettes")
    assert cli_main(["ls", cassettes, "--older-than", "90d", "--json"], Console(old, io.StringIO())) == 0
    assert [row["recorded_at"] for row in json.loads(old.getvalue())] == ["2021-06-01T00:00:00+00:00"]
    assert cli_main(["ls", cassettes, "--older-than", "9999d", "--json"], Console(recent, io.StringIO())) == 0
    assert json.loads(recent.getvalue()) == []


def test_disable_recording_block_network_and_allowed_hosts(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_net="""
        import httpx, pytest

        @pytest.mark.vcr
        def test_marked(api, vcr):
            assert vcr is None
            httpx.get(f"{api}/models")

        def test_unmarked(api):
            httpx.get(f"{api}/models")
        """
    )
    run(inner, "--disable-recording").assert_outcomes(passed=2)
    assert not (inner.path / "cassettes").exists()
    blocked = run(inner, "--disable-recording", "--block-network")
    blocked.assert_outcomes(failed=2)
    blocked.stdout.fnmatch_lines(["*network blocked (--block-network)*"])
    run(inner, "--disable-recording", "--block-network", "--allowed-hosts", "127\\.0\\..*").assert_outcomes(
        passed=2
    )


@pytest.mark.parametrize(
    ("param_id", "folder"),
    [
        ("gpt-4o", "test_ids[gpt-4o]"),
        ("a/b", "test_ids[a-b]"),
        ("[x]", "test_ids[[x]]"),
        ('q"u:o*t?e<>|', "test_ids[q-u-o-t-e---]"),
        ("back\\slash", "test_ids[back--slash]"),  # pytest escapes "\" as "\\", each becomes "-"
        ("caf\u00e9", "test_ids[caf-xe9]"),  # pytest escapes non-ASCII ids
        ("x" * 300, LONG[: 255 - len(".yaml") - 32 - 3] + "..." + hashlib.md5(LONG.encode()).hexdigest()),
    ],
)
def test_cassette_names_agree_with_pytest_recording_and_convert(
    inner: pytest.Pytester, param_id: str, folder: str
) -> None:
    """The folder a test's cassette lives in is pytest-recording's YAML name without ``.yaml``, so a
    converted cassette is found, and prune does not list it."""
    inner.makepyfile(
        test_names=f"""
        import httpx, pytest

        @pytest.mark.vcr
        @pytest.mark.parametrize("x", [pytest.param(1, id={param_id!r})])
        def test_ids(api, x):
            httpx.get(f"{{api}}/models")
        """
    )
    run(inner, "--record-mode=once").assert_outcomes(passed=1)
    (made,) = [p.name for p in (inner.path / "cassettes" / "test_names").iterdir()]
    assert made == folder
    yaml = inner.path / "yaml" / "test_names" / f"{made}.yaml"
    yaml.parent.mkdir(parents=True)
    yaml.write_text(VCR_YAML.replace("URL", "http://127.0.0.1:9/v1/models"))
    converted = inner.path / "converted"
    assert cli_main(["convert", str(inner.path / "yaml"), str(converted), "--from", "vcr"]) == 0
    assert [p.name for p in (converted / "test_names").iterdir()] == [made]
    result = run(inner, "--record-mode=none", f"--cassette-dir={converted}", "--cassette-prune")
    result.assert_outcomes(passed=1)
    assert "unused" not in result.stdout.str()


VCR_YAML = """interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: URL
  response:
    body: {string: '{"object": "list", "data": []}'}
    headers:
      content-type: [application/json]
    status: {code: 200, message: OK}
version: 1
"""


def test_another_plugin_with_the_names_leaves_them_and_pytest_starts(inner: pytest.Pytester) -> None:
    pytest.importorskip("cassetter", reason="cassetter (the bench extra) is the other plugin here")
    inner.makepyfile(test_x="def test_x(): pass")
    result = inner.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:recording", "-o", "asyncio_default_fixture_loop_scope=function"
    )  # cassetter is here
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["httpx_cassette: cassetter is installed, so it handles @pytest.mark.vcr*"])


def test_vcr_fixture_attributes_and_marker_over_vcr_config(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_attrs="""
        import httpx, pytest

        @pytest.fixture
        def vcr_config():
            return {"record_mode": "none", "ignore_localhost": False}

        @pytest.mark.vcr(record_mode="once")  # the marker wins over vcr_config
        def test_attrs(api, vcr):
            httpx.get(f"{api}/models")
            httpx.get(f"{api}/models/gpt-4o")
            assert vcr.record_mode == "once"  # as chosen, recording or replaying
            if vcr.play_count:
                assert vcr.play_count == 2 and vcr.all_played
                assert [r.status for r in vcr.requests] == ["replayed", "replayed"]
            else:
                assert [r.status for r in vcr.requests] == ["recorded", "recorded"]
            assert [r.status for r in vcr.responses] == [200, 200]
            assert len(vcr) == 2  # the recorded responses, as vcrpy's len(cassette)
            assert vcr.requests[1].url.endswith("/models/gpt-4o")

        @pytest.mark.vcr(ignore_localhost=True)
        def test_passed(api, vcr):
            httpx.get(f"{api}/models")
            assert [r.status for r in vcr.requests] == ["passed"]
        """
    )
    run(inner).assert_outcomes(passed=2)
    assert [p.name for p in (inner.path / "cassettes" / "test_attrs").iterdir()] == ["test_attrs"]
    run(inner).assert_outcomes(passed=2)  # once: now replayed, and record_mode still says once


def test_a_bad_cassette_config_fails_the_test_naming_it(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_bad="""
        import pytest

        @pytest.fixture
        def cassette_config():
            return {"redact_json_path": ["user"]}

        @pytest.mark.cassette
        def test_bad(): pass
        """
    )
    result = run(inner)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option 'redact_json_path' in the cassette_config fixture*"])


def test_a_vcr_marker_takes_the_cassette_marker_s_caught_errors(inner: pytest.Pytester) -> None:
    """A pytest-recording suite whose test expects a miss says so on its own marker."""
    inner.makepyfile(
        test_caught="""
        import httpx, pytest
        from httpx_cassette import CassetteMiss

        @pytest.mark.vcr(caught_errors="pass")
        def test_expected(api):
            with pytest.raises(CassetteMiss):
                httpx.get("https://elsewhere.example/v1/models")

        @pytest.mark.vcr
        def test_default(api):
            with pytest.raises(CassetteMiss):
                httpx.get("https://elsewhere.example/v1/models")
        """
    )
    result = run(inner, "--record-mode=none")
    result.assert_outcomes(passed=1, failed=1)
    assert "VcrConfigWarning" not in result.stdout.str()  # taken, not warned about
    result.stdout.fnmatch_lines(["*test_default*", "*the code under test caught this error*"])
