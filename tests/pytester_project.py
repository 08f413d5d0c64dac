"""The pytester project the plugin's tests run in: an ``api`` fixture pointing at a live server, no mode
or CI from the outer environment, and the options that keep other installed plugins out of the way."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

# Plugins that would take the names under test (cassetter) or reorder and cache runs.
NATIVE = ("-p", "no:cacheprovider", "-p", "no:cassetter", "-p", "no:randomly")
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


def recording_path() -> str | None:
    """Where pytest-recording can be imported from (for a subprocess: "" when it is installed, else
    ``$PYTEST_RECORDING_LIB``, a pip --target folder), or None."""
    if importlib.util.find_spec("pytest_recording") is not None:
        return ""
    if RECORDING_LIB and (Path(RECORDING_LIB) / "pytest_recording").is_dir():
        return RECORDING_LIB
    return None
