"""Shared fixtures: the local OpenAI-wire server, the optional httpx2 library, the seed recordings."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.pytester_project import project
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

pytest_plugins = ["pytester"]

# Property tests run a few hundred cases by default; `--hypothesis-profile=long` (or
# HYPOTHESIS_PROFILE=long) runs thousands for a separate, slower fuzzing session.
settings.register_profile("long", max_examples=5_000, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"  # read-only input from outside the project; may be absent
SEEDS_ABSENT = f"seeds absent: {SEEDS} is not there, so the tests of real llama-stack recordings did not run"

HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None
LIBRARIES = [
    "httpx",
    pytest.param("httpx2", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="httpx2 missing")),
]


@pytest.fixture(scope="module")
def openai_server() -> Iterator[LiveServer[OpenAIApp]]:
    """The OpenAI-compatible server on 127.0.0.1, one per test module."""
    with LiveServer(create_app()) as server:
        yield server


@pytest.fixture
def inner(
    pytester: pytest.Pytester, openai_server: LiveServer[OpenAIApp], monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A pytester project of the plugin's tests (`tests.pytester_project`) against the live server."""
    return project(pytester, openai_server.base_url, monkeypatch)


@pytest.fixture(params=LIBRARIES)
def httpx_lib(request: pytest.FixtureRequest) -> object:
    """The HTTP library module under test: httpx, then httpx2 when installed."""
    return __import__(request.param)


@pytest.fixture
def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the cassette files the store parses during the test, in order."""
    from httpx_cassette.storage import store as _store

    parsed: list[str] = []
    real = _store.decode_file

    def counting(data: bytes, source: str) -> object:
        parsed.append(Path(source).name)
        return real(data, source)

    monkeypatch.setattr(_store, "decode_file", counting)
    return parsed


@pytest.fixture
def seeds_dir() -> Path:
    """``../shared/seeds`` when it exists; skips the test otherwise."""
    if not SEEDS.is_dir():
        pytest.skip(SEEDS_ABSENT)
    return SEEDS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say so at the end of every run when the seed tests skipped: a skip is otherwise only an ``s``."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SEEDS_ABSENT in str(r.longrepr)]
    if skipped:
        terminalreporter.write_sep("=", f"{len(skipped)} skipped, {SEEDS_ABSENT}", yellow=True)


@pytest.fixture(autouse=True)
def _not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite runs alike on a laptop and in CI: the plugin's CI guard (record modes refused under
    ``$CI``) is tested where a test sets ``CI`` itself, not wherever the suite happens to run."""
    monkeypatch.delenv("CI", raising=False)
