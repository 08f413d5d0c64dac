"""The pytester project the plugin's tests run in: an ``api`` fixture pointing at a live server, no mode
or CI from the outer environment, and the options that keep other installed plugins out of the way."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

# Plugins that would take the names under test (cassetter) or reorder and cache runs.
NATIVE = ("-p", "no:cacheprovider", "-p", "no:cassetter", "-p", "no:randomly")
# For the vcr-compat tests: pytest-recording off too, since its names (vcr, --record-mode...) are ours in
# these runs; pytest-asyncio warns in every inner run that writes no ini of its own unless its loop
# scope is set.
VCR_NATIVE = (*NATIVE, "-p", "no:recording", "-o", "asyncio_default_fixture_loop_scope=function")
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
CONFTEST = """
import os
import pytest

@pytest.fixture
def api():
    return os.environ["API_URL"]
"""
RECORDING_LIB = os.environ.get("PYTEST_RECORDING_LIB", "")


def project(
    pytester: pytest.Pytester, base_url: str, monkeypatch: pytest.MonkeyPatch, *, ini: bool = True
) -> pytest.Pytester:
    """``pytester`` as a project whose ``api`` fixture is ``base_url`` (``$API_URL``)."""
    monkeypatch.setenv("API_URL", base_url)
    monkeypatch.delenv("HTTPX_CASSETTE_MODE", raising=False)
    monkeypatch.delenv("CI", raising=False)  # these runs record through markers: the CI guard would stop them
    pytester.makeconftest(CONFTEST)
    if ini:
        pytester.makeini(INI)
    return pytester


@pytest.fixture(name="inner")
def vcr_project(
    pytester: pytest.Pytester, openai_server: LiveServer[OpenAIApp], monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """The vcr-compat tests' project (no ini of its own), against the local OpenAI-wire server; a
    module takes it as its ``inner`` fixture by importing it."""
    return project(pytester, openai_server.base_url, monkeypatch, ini=False)


def run_vcr(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner run with the vcr-compat tests' options (`VCR_NATIVE`)."""
    return pytester.runpytest_inprocess(*VCR_NATIVE, *args)


def recording_path() -> str | None:
    """Where pytest-recording can be imported from (for a subprocess: "" when it is installed, else
    ``$PYTEST_RECORDING_LIB``, a pip --target folder), or None."""
    if importlib.util.find_spec("pytest_recording") is not None:
        return ""
    if RECORDING_LIB and (Path(RECORDING_LIB) / "pytest_recording").is_dir():
        return RECORDING_LIB
    return None
