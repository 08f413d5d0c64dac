"""A pytest-recording suite adopting httpx_cassette without rewriting its tests (the migration audit):

- with pytest-recording installed, its options and ``@pytest.mark.vcr`` are left to it entirely;
- a project's ``default_cassette_name`` fixture and ``@pytest.mark.default_cassette`` name cassettes
  as pytest-recording does;
- the ``vcr`` fixture's requests, responses and ``record_mode`` read as vcrpy's;
- ``cassette_unused = "fail"`` checks ``vcr``-marked tests' own cassettes;
- ``$HTTPX_CASSETTE_MODE`` takes vcrpy's names for explicit transports too.

pytest-recording is not in the test extra (installed, it takes ``@pytest.mark.vcr`` from the runs of
tests/test_migrate.py and tests/test_vcr_compat.py, which test our own handling of those names). Its
presence is simulated the way the plugin detects it: a plugin registered under its entry point's
name, ``recording``, with its options. The real one is used as well when it is importable, or in
``$PYTEST_RECORDING_LIB`` (a ``pip install --target`` folder).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteError, CassetteMiss, CassetteTransport, use_cassette
from httpx_cassette.core.modes import resolve_mode
from httpx_cassette.model.cassette import Request, Response
from httpx_cassette.pytest_plugin.vcr_cassette import VcrRequest, VcrResponse
from tests.pytester_project import NATIVE, recording_path

OURS = (*NATIVE, "-p", "no:recording")  # pytest-recording's names ours, whether it is installed or not
DEAD = "http://127.0.0.1:9/v1"  # nothing listens there: replay must not need the server
# pytest-recording as the plugin sees it: a plugin registered as "recording" (its entry point's name,
# taking the real one's place if that is installed too), with its options and markers. It neither
# replays nor blocks anything, so whatever fails under it is httpx_cassette's doing.
STAND_IN = """
class PytestRecording:
    def pytest_addoption(self, parser):
        group = parser.getgroup("recording")
        group.addoption("--record-mode", choices=("once", "new_episodes", "none", "all", "rewrite"))
        group.addoption("--block-network", action="store_true", default=False)
        group.addoption("--allowed-hosts", default=None)
        group.addoption("--disable-recording", action="store_true", default=False)

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "vcr: Mark the test as using VCR.py.")
        config.addinivalue_line("markers", "default_cassette: Override the default cassette name.")

def pytest_addhooks(pluginmanager):
    pluginmanager.register(PytestRecording(), "recording")
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process run in which httpx_cassette has pytest-recording's names (unless ``args`` load
    the stand-in for it)."""
    return pytester.runpytest_inprocess(*(NATIVE if "recording_stand_in" in args else OURS), *args)


def with_stand_in(pytester: pytest.Pytester) -> tuple[str, ...]:
    """The arguments that load the stand-in for pytest-recording."""
    pytester.makepyfile(recording_stand_in=STAND_IN)
    pytester.syspathinsert()
    return ("-p", "recording_stand_in")


def header(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stdout.lines if line.startswith("httpx_cassette:")]


def folders(root: Path) -> set[str]:
    return {file.parent.name for file in root.rglob("*.json")}


# -- A1: with pytest-recording installed, its names are its own ---------------------------------------

BOTH = """
import httpx, pytest

@pytest.mark.vcr
def test_vcr(api, request):
    assert "vcr" not in request.fixturenames  # pytest-recording's fixture name: ours is not there
    assert httpx.get(f"{api}/models").status_code == 200

@pytest.mark.cassette
def test_ours(cassette):
    assert cassette.mode == "replay"  # --record-mode is pytest-recording's, not ours

def test_unmarked(api):
    assert httpx.get(f"{api}/models").status_code == 200
"""


def test_with_pytest_recording_its_options_and_marker_are_left_to_it(inner: pytest.Pytester) -> None:
    stand_in = with_stand_in(inner)
    inner.makepyfile(test_both=BOTH)
    result = run(inner, *stand_in, "--record-mode=all", "--block-network", "--allowed-hosts=nothing")
    result.assert_outcomes(passed=3)  # no NetworkBlocked from us, our mode untouched
    assert header(result) == [
        "httpx_cassette: pytest-recording is installed, so it handles @pytest.mark.vcr, --record-mode,"
        " --block-network and --allowed-hosts; httpx_cassette takes @pytest.mark.cassette and"
        " --cassette-* only (mode replay from default)"
    ]
    assert not (inner.path / "cassettes").exists()


def test_with_pytest_recording_our_block_leaves_vcr_tests_to_it(inner: pytest.Pytester) -> None:
    stand_in = with_stand_in(inner)
    inner.makepyfile(test_both=BOTH)
    result = run(inner, *stand_in, "--cassette-block-network", "--record-mode=none", "--block-network")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*network blocked (--cassette-block-network): GET *", "FAILED test_both.py::test_unmarked - *"]
    )
    assert header(result)[0].endswith("(mode replay from default, network blocked)")


needs_recording = pytest.mark.skipif(
    recording_path() is None or importlib.util.find_spec("vcr") is None,
    reason="pytest-recording and vcrpy are not importable ($PYTEST_RECORDING_LIB: a pip --target folder)",
)

REAL = """
import httpx, pytest

@pytest.fixture
def default_cassette_name(request):  # pytest-recording's documented customisation
    return "custom-" + request.node.name

@pytest.mark.vcr
def test_models(api):
    assert httpx.get(f"{api}/models").status_code == 200

@pytest.mark.vcr
@pytest.mark.default_cassette("explicit.yaml")  # the fixture above decides, not this
def test_model(api):
    assert httpx.get(f"{api}/models/gpt-4o").status_code == 200
"""


@needs_recording
def test_with_the_real_pytest_recording_its_yaml_replays_and_converts_to_the_same_names(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from httpx_cassette.cli import main as cli_main

    lib = recording_path()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (lib, os.environ.get("PYTHONPATH", "")) if p))
    inner.makepyfile(test_real=REAL)
    recorded = inner.runpytest_subprocess(*NATIVE, "-p", "no:httpx_cassette", "--record-mode=once")
    recorded.assert_outcomes(passed=2)
    yaml = inner.path / "cassettes" / "test_real"
    assert sorted(p.name for p in yaml.iterdir()) == ["custom-test_model.yaml", "custom-test_models.yaml"]

    # Both installed: vcrpy replays the YAML (its --block-network fails anything else); nothing of ours
    # gets in the way. vcrpy matches on the port, so the server's URL stays.
    both = inner.runpytest_subprocess(*NATIVE, "--record-mode=none", "--block-network")
    both.assert_outcomes(passed=2)
    assert len(header(both)) == 1
    assert header(both)[0].startswith("httpx_cassette: pytest-recording is installed, so it handles")
    inner.runpytest_subprocess(*NATIVE, "--record-mode=none", "--cassette-block-network").assert_outcomes(
        passed=2
    )

    assert cli_main(["convert", str(yaml), str(yaml), "--from", "vcr"]) == 0
    monkeypatch.setenv("API_URL", DEAD)
    ours = inner.runpytest_subprocess(*OURS, "--record-mode=none", "--block-network")
    ours.assert_outcomes(passed=2)  # our plugin alone finds the converted folders by the fixture's names


# -- A4: the cassette's name ----------------------------------------------------------------------------

NAMED = """
import httpx, pytest

@pytest.fixture
def default_cassette_name(request):
    return "custom-" + request.node.name

@pytest.mark.vcr
def test_custom_name(api):
    httpx.get(f"{api}/models")

@pytest.mark.vcr
@pytest.mark.default_cassette("explicit.yaml")
def test_fixture_beats_marker(api):  # as with pytest-recording: the project's fixture decides
    httpx.get(f"{api}/models")
"""
MARKED = """
import httpx, pytest

@pytest.mark.vcr
@pytest.mark.default_cassette("explicit.yaml")
def test_marker_names(api):
    httpx.get(f"{api}/models")

class TestWrapped:
    @pytest.fixture
    def default_cassette_name(self, default_cassette_name):  # the default, extended
        return default_cassette_name + "-v2"

    @pytest.mark.vcr
    def test_wrapped(self, api):
        httpx.get(f"{api}/models")
"""


def test_a_projects_default_cassette_name_fixture_and_marker_name_the_cassette(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_named=NAMED, test_marked=MARKED)
    run(inner, "--record-mode=once").assert_outcomes(passed=4)
    root = inner.path / "cassettes"
    assert folders(root / "test_named") == {"custom-test_custom_name", "custom-test_fixture_beats_marker"}
    assert folders(root / "test_marked") == {"explicit", "TestWrapped.test_wrapped-v2"}
    monkeypatch.setenv("API_URL", DEAD)
    run(inner, "--record-mode=none", "--block-network").assert_outcomes(passed=4)


def test_a_credential_in_an_overridden_default_cassette_name_names_no_folder(inner: pytest.Pytester) -> None:
    key = "sk-proj-" + "Fixtur3NameTestKey" + "0123456789abcdefGHIJ"
    inner.makepyfile(
        test_secret=f"""
        import httpx, pytest

        @pytest.fixture
        def default_cassette_name(request):
            return "custom-" + request.node.name

        @pytest.mark.vcr
        @pytest.mark.parametrize("api_key", [{key!r}])
        def test_keyed(api, api_key):
            httpx.get(f"{{api}}/models")
        """
    )
    run(inner, "--record-mode=once").assert_outcomes(passed=1)
    (folder,) = folders(inner.path / "cassettes" / "test_secret")
    assert key not in folder
    assert folder.startswith("custom-test_keyed[secret-")


# -- A6: the vcr fixture in vcrpy's shapes ------------------------------------------------------------


def test_the_vcr_fixture_answers_vcrpy_names(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    inner.makepyfile(
        test_shapes="""
        import json
        import httpx, pytest

        @pytest.mark.vcr
        def test_shapes(api, vcr):
            httpx.get(f"{api}/models", params={"b": "2", "a": "1"})
            chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            httpx.post(f"{api}/chat/completions", json=chat)
            with httpx.stream("POST", f"{api}/chat/completions", json={**chat, "stream": True}) as reply:
                reply.read()
            get, post, stream = vcr.requests
            assert get.uri == get.url == f"{api}/models?b=2&a=1"
            port = int(api.split(":")[2].split("/")[0])
            assert (get.scheme, get.host, get.port, get.path) == ("http", "127.0.0.1", port, "/v1/models")
            assert get.query == [("a", "1"), ("b", "2")] and get.body == b"" and get.method == "GET"
            assert json.loads(post.body) == chat and post.json() == chat
            assert post.headers["Content-Type"] == "application/json" and "CONTENT-TYPE" in post.headers
            assert vcr.record_mode == "once"

            models, answer, events = vcr.responses
            assert models["status"] == {"code": 200, "message": "OK"} and models.status == 200
            assert models["headers"]["content-type"] == ["application/json"]
            assert json.loads(models["body"]["string"])["object"] == "list"
            assert json.loads(answer["body"]["string"])["choices"][0]["message"]["content"] == "Echo: hi"
            assert events["body"]["string"].startswith(b"data: {")
            assert events["body"]["string"].endswith(b"data: [DONE]\\n\\n")
        """
    )
    run(inner, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("API_URL", DEAD)
    run(inner, "--record-mode=once").assert_outcomes(passed=1)  # replayed: the same shapes


def test_vcr_shapes_of_a_request_and_response_without_a_server() -> None:
    sent = VcrRequest(Request(method="GET", url="https://api.example.com/v1/x?q=1", headers={}), "replayed")
    assert (sent.port, sent.protocol, sent.query) == (443, "https", [("q", "1")])
    assert repr(sent) == "<Request (GET) https://api.example.com/v1/x?q=1 replayed>"
    assert VcrRequest(Request(method="GET", url="http://h/x"), "missed").port == 80
    odd = VcrResponse(Response(status=599, headers={"x-a": "1"}, text="late"), b"late")
    assert odd == {
        "status": {"code": 599, "message": ""},
        "headers": {"x-a": ["1"]},
        "body": {"string": b"late"},
    }
    assert odd.text == "late"
    with pytest.raises(AttributeError):
        _ = odd.no_such_attribute


def test_a_miss_says_how_to_record_in_the_words_of_the_mode_it_was_given(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_miss="""
        import httpx, pytest

        @pytest.mark.vcr
        def test_new(api):
            httpx.get(f"{api}/models")
        """
    )
    result = run(inner, "--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*  hint: this run passed --record-mode=none, which replays this cassette, so nothing is*",
            "*  to record it: rerun pytest with --record-mode=once",
        ]
    )


# -- A11: cassette_unused = "fail" and vcr-marked tests ------------------------------------------------

UNUSED = """
import os
import httpx, pytest

def two(api):
    httpx.get(f"{api}/models")
    if not os.environ.get("ONLY_ONE"):
        httpx.get(f"{api}/models/gpt-4o")

@pytest.mark.cassette
def test_ours(api):
    two(api)

@pytest.mark.vcr
def test_vcr(api):
    two(api)

@pytest.mark.vcr
@pytest.mark.default_cassette("shared")  # named explicitly: may be shared, so exempt
def test_shared(api):
    two(api)
"""


def test_cassette_unused_fail_checks_a_vcr_tests_own_cassette(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(test_unused=UNUSED)
    run(inner, "--record-mode=once").assert_outcomes(passed=3)
    monkeypatch.setenv("ONLY_ONE", "1")
    monkeypatch.setenv("API_URL", DEAD)
    result = run(inner, "--record-mode=none", "-o", "cassette_unused=fail")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "cassette cassettes/test_unused/test_ours has 1 recording(s) this test did not use:",
            "cassette cassettes/test_unused/test_vcr has 1 recording(s) this test did not use:",
        ]
    )
    assert "test_shared" not in result.stdout.str()


# -- A14: vcrpy's names in $HTTPX_CASSETTE_MODE, everywhere -------------------------------------------


@pytest.mark.parametrize(
    ("name", "mode"), [("none", "replay"), ("new_episodes", "record-missing"), ("all", "record")]
)
def test_vcrpy_names_in_the_environment_work_for_transports_and_use_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, mode: str
) -> None:
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", name)
    assert CassetteTransport(tmp_path / "t").cassette.mode == mode
    with use_cassette(tmp_path / "u") as session:
        assert session.mode == mode
    assert CassetteTransport(tmp_path / "t", mode="replay").cassette.mode == "replay"  # an argument wins


def test_once_in_the_environment_resolves_against_the_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "once")
    assert resolve_mode(None, has_recordings=True) == "replay"
    assert resolve_mode(None, has_recordings=False) == "record"
    assert resolve_mode(None) == "record-missing"  # unknown: replay what is there, record the rest
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "rewrite")
    assert resolve_mode(None) == "record"
    with pytest.raises(CassetteError, match="unknown cassette mode 'once' in the mode argument"):
        resolve_mode("once")  # an argument takes our names only


def test_once_in_the_environment_replays_a_directory_with_recordings_and_records_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As vcrpy's ``once``, per cassette directory, for a transport and ``use_cassette`` alike: a new
    request to a directory that has recordings is a miss, not a silent recording."""
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "once")
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"path": request.url.path}))
    for folder in ("transport", "block"):
        path = tmp_path / folder
        assert CassetteTransport(path, inner=upstream).cassette.mode == "record"  # empty: records
        with httpx.Client(transport=CassetteTransport(path, inner=upstream)) as client:
            assert client.get("https://api.test/v1/a").json() == {"path": "/v1/a"}
        if folder == "transport":
            transport = CassetteTransport(path, inner=upstream)
            assert transport.cassette.mode == "replay"
            with httpx.Client(transport=transport) as client:
                assert client.get("https://api.test/v1/a").json() == {"path": "/v1/a"}
                with pytest.raises(CassetteMiss):
                    client.get("https://api.test/v1/b")
        else:
            with use_cassette(path) as session, httpx.Client() as client:
                assert session.mode == "replay"
                with pytest.raises(CassetteMiss):
                    client.get("https://api.test/v1/b")
        assert len(list(path.glob("*.json"))) == 1  # nothing new was written
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "recrod")
    known = "use one of replay, record, record-missing, live, none, once, new_episodes, all, rewrite"
    with pytest.raises(CassetteError, match=f"in \\$HTTPX_CASSETTE_MODE: {known}$"):
        CassetteTransport("unused")


def test_once_in_the_environment_serves_the_plugin_and_an_explicit_transport_alike(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(
        test_env="""
        import httpx, pytest
        from httpx_cassette import CassetteTransport

        @pytest.mark.vcr
        def test_both(api, vcr, tmp_path_factory):
            httpx.get(f"{api}/models")
            transport = CassetteTransport("cassettes/explicit")
            httpx.Client(transport=transport).get(f"{api}/models")
            assert vcr.record_mode == "once"
        """
    )
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "once")
    result = run(inner)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["httpx_cassette: mode once (*) from $HTTPX_CASSETTE_MODE"])
    monkeypatch.setenv("API_URL", DEAD)
    run(inner).assert_outcomes(passed=1)  # both replay
