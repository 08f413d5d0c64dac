"""The fixtures of pytest-recording's names, registered as a plugin of their own only when
pytest-recording is not installed (see `httpx_cassette.pytest_plugin.vcr_compat`)."""

from __future__ import annotations

from typing import Any

import pytest

from httpx_cassette.intercept.session import CassetteSession
from httpx_cassette.pytest_plugin.cassette import STATE
from httpx_cassette.pytest_plugin.paths import recording_name
from httpx_cassette.pytest_plugin.vcr_cassette import VcrCassette

__all__ = ["default_cassette_name", "vcr", "vcr_cassette_dir", "vcr_config"]


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """vcrpy's ``use_cassette`` keywords for the tests in its scope; override it (conftest, module,
    class). The keys that are honoured, and how, are in docs/guides/from-vcrpy.md."""
    return {}


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """The folder of this module's cassettes (``cassettes/<module>`` beside it, or under --cassette-dir)."""
    plugin: Any = request.config.pluginmanager.getplugin("httpx_cassette_state")
    return str(plugin.settings.layout.module_folder(request.path))


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    """The name of a ``vcr``-marked test's cassette, a folder in ``vcr_cassette_dir``: the
    ``@pytest.mark.default_cassette`` name, else pytest-recording's name for the test
    (``Class.test_x[id]``). Override it as with pytest-recording; a ``.yaml`` ending is dropped."""
    return recording_name(request.node)


@pytest.fixture
def vcr(request: pytest.FixtureRequest, _httpx_cassette: CassetteSession | None) -> VcrCassette | None:
    """The test's cassette with vcrpy's names (``play_count``, ``all_played``, ``requests``,
    ``responses``, ``record_mode``); None when the test has no ``vcr`` marker or under
    --disable-recording."""
    if _httpx_cassette is None:
        return None
    state = request.node.stash.get(STATE, None)
    return VcrCassette(_httpx_cassette, state.spec if state is not None else None)
