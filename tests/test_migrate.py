"""Issue 13's real test: a suite written for pytest-recording (``tests/fixtures/vcr_suite``) runs
unchanged under httpx_cassette's plugin with pytest-recording uninstalled: it records with
``--record-mode=once`` against the local server, then replays with ``--record-mode=none
--block-network`` with the server stopped. The same suite's YAML cassettes, recorded by real vcrpy +
pytest-recording (when importable), replay the same way after one ``convert``.

pytest-recording is looked for on ``sys.path`` and in ``$PYTEST_RECORDING_LIB`` (a ``pip install
--target`` folder); without it those parts skip.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from httpx_cassette.cli import main as cli_main
from tests.pytester_project import INI, NATIVE, recording_path
from tests.servers.openai_app import create_app
from tests.servers.runner import LiveServer

SUITE = Path(__file__).parent / "fixtures" / "vcr_suite"
KEY = "sk-proj-" + "Mig8rat1onTestKey" + "0123456789abcdefGHIJ"


needs_recording = pytest.mark.skipif(
    recording_path() is None or importlib.util.find_spec("vcr") is None,
    reason="pytest-recording and vcrpy are not importable ($PYTEST_RECORDING_LIB: a pip --target folder)",
)


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The suite, copied unchanged into a pytester project."""
    (pytester.path / "conftest.py").write_text((SUITE / "suite_conftest.py").read_text())
    (pytester.path / "test_app.py").write_text((SUITE / "suite_test_app.py").read_text())
    pytester.makeini(INI)
    monkeypatch.delenv("HTTPX_CASSETTE_MODE", raising=False)
    monkeypatch.delenv("CI", raising=False)  # the recording run below is explicit (--record-mode)
    return pytester


def _files(root: Path) -> list[Path]:
    return [f for f in root.rglob("*") if f.is_file()]


def _no_key_on_disk(root: Path) -> None:
    leaking = [f for f in _files(root) if KEY.encode() in f.read_bytes()]
    assert not leaking, f"the API key reached {leaking}"


def _replay_offline(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9/v1")  # nothing listens: the server is gone
    return suite.runpytest_inprocess(*NATIVE, "--record-mode=none", "--block-network", *args)


def test_suite_written_for_pytest_recording_records_then_replays_offline(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LiveServer(create_app()) as server:
        monkeypatch.setenv("API_URL", server.base_url)
        recorded = suite.runpytest_inprocess(*NATIVE, "--record-mode=once")
        served = server.app.stats.requests
    recorded.assert_outcomes(passed=12)
    cassettes = suite.path / "cassettes" / "test_app"
    folders = sorted(p.name for p in cassettes.iterdir())
    assert "test_parametrized[mini-[fast]]" in folders  # pytest-recording's name, "/" replaced
    assert "test_parametrized[caf-xe9]" in folders  # pytest escapes the id, then "\" is replaced
    assert "TestConversation.test_first" in folders
    assert "shared" in folders
    assert any(name.startswith("test_parametrized[long-xxx") and "..." in name for name in folders)
    assert "test_extra_cassette" not in folders  # served from the extra cassette "shared"
    _no_key_on_disk(suite.path / "cassettes")
    assert served == 11  # the extra-cassette test was served from "shared"

    replayed = _replay_offline(suite, monkeypatch)
    replayed.assert_outcomes(passed=12)


@needs_recording
def test_yaml_recorded_by_pytest_recording_replays_after_one_convert(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = recording_path()
    path = os.pathsep.join(p for p in (lib, os.environ.get("PYTHONPATH", "")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    # vcrpy patches httpx, not httpx2: the SDK's default client is not recorded by it (see the guide).
    only_httpx = ("-k", "not sdk_default_client")
    with LiveServer(create_app()) as server:
        monkeypatch.setenv("API_URL", server.base_url)
        yaml_run = suite.runpytest_subprocess(
            "-p", "no:httpx_cassette", "-p", "no:cassetter", "-p", "no:cacheprovider",
            "--record-mode=once", *only_httpx,
        )  # fmt: skip
    yaml_run.assert_outcomes(passed=11, deselected=1)
    root = suite.path / "cassettes"
    yamls = sorted(f.name for f in root.rglob("*.yaml"))
    assert "test_parametrized[mini-[fast]].yaml" in yamls, yamls

    assert cli_main(["convert", str(root), str(root), "--from", "vcr"]) == 0  # the one command
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", "").removeprefix(lib or ""))
    replayed = _replay_offline(suite, monkeypatch, *only_httpx)
    replayed.assert_outcomes(passed=11, deselected=1)


@needs_recording
def test_pytest_starts_with_both_plugins_installed(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = recording_path()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (lib, *sys.path) if p))
    result = suite.runpytest_subprocess("-p", "no:cassetter", "-p", "no:cacheprovider", "--co", "-q")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result = suite.runpytest_subprocess("-p", "no:cassetter", "-p", "no:cacheprovider", "--co")
    result.stdout.fnmatch_lines(["httpx_cassette: pytest-recording is installed, so it handles *"])
