"""pytest-recording's names, for suites written for it: ``@pytest.mark.vcr`` (extra cassette names as
arguments, vcrpy keywords), ``@pytest.mark.default_cassette``, the ``vcr``, ``vcr_config`` and
``vcr_cassette_dir`` fixtures, and ``--record-mode``, ``--block-network``, ``--allowed-hosts``,
``--disable-recording``.

They are registered only when pytest-recording is not installed: with it installed, it keeps its
names, ours keep to ``--cassette-*`` and ``@pytest.mark.cassette``, and the report header says so.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette.core.modes import ALIASES
from httpx_cassette.core.sent import Sent
from httpx_cassette.errors import CassetteMiss
from httpx_cassette.http.exchange import Exchange
from httpx_cassette.intercept.session import CassetteSession
from httpx_cassette.model.cassette import Response
from httpx_cassette.pytest_plugin.paths import recording_name
from httpx_cassette.pytest_plugin.vcr_config import translate

__all__ = ["VcrCassette", "WithExtras", "add_options", "header", "names_owner", "vcr_layers"]

# Plugins that take pytest-recording's names themselves (pytest11 entry point -> project name).
OWNERS = {"recording": "pytest-recording", "cassetter": "cassetter"}
OPTIONS = ("--record-mode", "--block-network", "--allowed-hosts", "--disable-recording")
MARKERS = (
    "vcr(*extra_cassettes, **vcr_config): serve this test's httpx/httpx2 requests from a cassette"
    " (httpx_cassette, pytest-recording's names)",
    "default_cassette(name): the name of this test's cassette (httpx_cassette, pytest-recording's names)",
)


def header(owner: str) -> str:
    """The report header line saying another plugin has pytest-recording's names."""
    return (
        f"httpx_cassette: {owner} is installed, so it handles @pytest.mark.vcr, --record-mode and"
        " --block-network; httpx_cassette takes @pytest.mark.cassette and --cassette-* only"
    )


@functools.cache
def _entry_points() -> frozenset[str]:
    """The names of the installed pytest plugins (read once: listing them costs milliseconds)."""
    return frozenset(ep.name for ep in importlib.metadata.entry_points(group="pytest11"))


def names_owner(pluginmanager: pytest.PytestPluginManager) -> str | None:
    """The plugin that has (or will have) pytest-recording's names in this run, if any."""
    autoload = not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    installed = _entry_points() if autoload else frozenset()
    for name, project in OWNERS.items():
        if pluginmanager.hasplugin(name):
            return project
        if name in installed and not pluginmanager.is_blocked(name):
            return project
    return None


def _taken(parser: pytest.Parser) -> bool:
    """Whether a plugin loaded before us added one of pytest-recording's options."""
    groups = [*getattr(parser, "_groups", []), getattr(parser, "_anonymous", None)]
    names = {name for group in groups if group is not None for o in group.options for name in o.names()}
    return any(option in names for option in OPTIONS)


def add_options(parser: pytest.Parser) -> bool:
    """pytest-recording's command line options, unless some plugin has them; whether they were added."""
    if _taken(parser):
        return False
    group = parser.getgroup("httpx_cassette")
    group.addoption(
        "--record-mode",
        choices=list(ALIASES),
        default=None,
        help="vcrpy's record mode (pytest-recording's name for --cassette-mode)",
    )
    group.addoption(
        "--block-network", action="store_true", default=False, help="like --cassette-block-network"
    )
    group.addoption(
        "--allowed-hosts",
        default=None,
        metavar="REGEXES",
        help="comma-separated regexes of hosts let through --block-network",
    )
    group.addoption(
        "--disable-recording",
        action="store_true",
        default=False,
        help="@pytest.mark.vcr opens no cassette: tests reach the network",
    )
    return True


def vcr_layers(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(marker options, fixture options) for a test marked ``vcr``; None without the marker.

    Marker keywords merge closest first over ``vcr_config``, as pytest-recording does; positional
    arguments are extra cassettes, replayed too (relative ones inside ``vcr_cassette_dir``).
    """
    item = request.node
    markers = list(item.iter_markers("vcr"))
    if not markers:
        return None
    merged: dict[str, Any] = {}
    for marker in reversed(markers):
        merged.update(marker.kwargs)
    directory = Path(request.getfixturevalue("vcr_cassette_dir"))
    extras = [directory / str(name).removesuffix(".yaml") for m in markers for name in m.args]
    marker = translate(merged, f"@pytest.mark.vcr of {item.nodeid}")
    marker.update(path=directory / recording_name(item), extras=extras)
    fixture = translate(request.getfixturevalue("vcr_config"), f"vcr_config of {item.nodeid}")
    return marker, fixture


class WithExtras:
    """The route of a test whose ``vcr`` marker names extra cassettes: they replay first, read only,
    and what none of them has goes to the test's own cassette (which records, in a record mode)."""

    def __init__(self, main: CassetteSession, extras: list[CassetteSession]) -> None:
        self.main = main
        self.extras = extras

    def _served(self, extra: CassetteSession) -> None:
        self.main.cassette.requests.append(extra.cassette.requests[-1])

    def send(self, request: Any, forward: Callable[[Any], Any]) -> Any:
        for extra in self.extras:
            try:
                response = extra.transport.send(request, None)
            except CassetteMiss:
                continue
            self._served(extra)
            return response
        return self.main.send(request, forward)

    def begin(self, request: Any) -> Exchange | None:
        """The aiohttp and requests shells' entry: the first extra cassette that has ``request``, else
        the test's own."""
        for extra in self.extras:
            try:
                exchange = extra.transport.exchange(request)
            except CassetteMiss:
                continue
            self._served(extra)
            return exchange
        return self.main.begin(request)

    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any:
        for extra in self.extras:
            try:
                response = await extra.transport.send_async(request, None)
            except CassetteMiss:
                continue
            self._served(extra)
            return response
        return await self.main.send_async(request, forward)


class VcrCassette:
    """What the ``vcr`` fixture gives: the test's `CassetteSession` with vcrpy's attribute names."""

    def __init__(self, session: CassetteSession) -> None:
        self.session = session

    def __getattr__(self, name: str) -> Any:  # everything else a CassetteSession has
        return getattr(self.session, name)

    @property
    def record_mode(self) -> str:
        """The mode in vcrpy's words: none (replay), new_episodes (record-missing), all (record, live)."""
        return {"replay": "none", "record-missing": "new_episodes"}.get(self.session.mode, "all")

    @property
    def play_count(self) -> int:
        """How many responses were replayed."""
        return len(self.session.played)

    @property
    def all_played(self) -> bool:
        """Whether every recorded response of the cassette was replayed."""
        played = set(self.session.played)
        recorded = [
            (key, i) for key, _, f in self.session.cassette.store.items() for i in range(len(f.responses))
        ]
        return all(pair in played for pair in recorded)

    @property
    def requests(self) -> list[Sent]:
        """The requests the test sent, in order (see `CassetteSession.requests`)."""
        return self.session.requests

    @property
    def responses(self) -> list[Response]:
        """The recorded responses the test got (replayed or just recorded), in order."""
        store = self.session.cassette.store
        pairs = [*self.session.played, *self.session.recorded]
        found = [(store.get(key), index) for key, index in pairs]
        return [file.responses[index] for file, index in found if file is not None]
