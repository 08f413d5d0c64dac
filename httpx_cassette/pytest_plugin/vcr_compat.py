"""pytest-recording's names, for suites written for it: ``@pytest.mark.vcr`` (extra cassette names as
arguments, vcrpy keywords), ``@pytest.mark.default_cassette``, the ``vcr``, ``vcr_config`` and
``vcr_cassette_dir`` fixtures, and ``--record-mode``, ``--block-network``, ``--allowed-hosts``,
``--disable-recording``.

They are registered only when pytest-recording is not installed: with it installed, it keeps its
names, ours keep to ``--cassette-*`` and ``@pytest.mark.cassette``, and the report header says so.
Then pytest-recording's options are not read here either, and a ``vcr``-marked test is left to it
even under ``--cassette-block-network`` (`PassThrough`): vcrpy replays it or lets it out.
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
from httpx_cassette.errors import CassetteError, CassetteMiss
from httpx_cassette.http.exchange import Exchange
from httpx_cassette.intercept.session import CassetteSession
from httpx_cassette.pytest_plugin.paths import hidden, recording_name, shortened
from httpx_cassette.pytest_plugin.vcr_config import request_options, translate

__all__ = [
    "PassThrough",
    "WithExtras",
    "add_options",
    "cassette_name",
    "header",
    "names_owner",
    "vcr_layers",
]

# Plugins that take pytest-recording's names themselves (pytest11 entry point -> project name).
OWNERS = {"recording": "pytest-recording", "cassetter": "cassetter"}
OPTIONS = ("--record-mode", "--block-network", "--allowed-hosts", "--disable-recording")
MARKERS = (
    "vcr(*extra_cassettes, **vcr_config): serve this test's HTTP requests from a cassette"
    " (httpx_cassette, pytest-recording's names)",
    "default_cassette(name): the name of this test's cassette (httpx_cassette, pytest-recording's names)",
)


def header(owner: str, mode: str) -> str:
    """The report header line when another plugin has pytest-recording's names (``mode``: ours, and
    where it came from)."""
    return (
        f"httpx_cassette: {owner} is installed, so it handles @pytest.mark.vcr, --record-mode,"
        f" --block-network and --allowed-hosts; httpx_cassette takes @pytest.mark.cassette and"
        f" --cassette-* only (mode {mode})"
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

    Marker keywords merge closest first over ``vcr_config``, key by key as pytest-recording does, but
    vcrpy's filters and ``before_record_request``: those of ``vcr_config`` and of the markers all apply,
    in that order (`request_options`). Positional arguments are extra cassettes, replayed too (relative
    ones inside ``vcr_cassette_dir``).
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
    marker = translate(merged, f"@pytest.mark.vcr of {item.nodeid}", marker=True)
    shared = item.get_closest_marker("default_cassette") is not None  # a name given to several tests
    folder = directory / cassette_name(request)
    if "secret-" in folder.name and not folder.exists():  # named before ids were hashed slowly?
        before = directory / cassette_name(request, legacy=True)
        folder = before if before.is_dir() else folder
    marker.update(path=folder, extras=extras, shared=shared)
    config = request.getfixturevalue("vcr_config")
    fixture = translate(config, f"vcr_config of {item.nodeid}")
    try:  # the filters of every layer, chained: a marker's add to the fixture's (a class's marker's too)
        marker.update(request_options([config, *(m.kwargs for m in reversed(markers))]))
    except CassetteError as exc:
        raise CassetteError(f"vcr_config or @pytest.mark.vcr: {exc}") from None
    return marker, fixture


def cassette_name(request: pytest.FixtureRequest, *, legacy: bool = False) -> str:
    """The folder of a ``vcr``-marked test's cassette: the ``default_cassette_name`` fixture's value,
    as pytest-recording names the YAML file (`recording_name` unless the project overrides the
    fixture; then its value, credentials `hidden` as in a test id, shortened, without ``.yaml``);
    ``legacy``: as it was named before credentials were hashed slowly."""
    item = request.node
    default = recording_name(item)
    given = str(request.getfixturevalue("default_cassette_name"))
    if given == default:
        return recording_name(item, legacy=True) if legacy else default
    callspec = getattr(item, "callspec", None)
    return shortened(hidden(given, callspec.params if callspec is not None else None, legacy=legacy))


class PassThrough:
    """The route of a ``vcr``-marked test when another plugin (pytest-recording) serves it: on top of
    ``--cassette-block-network``'s blocker, every request goes on to that plugin untouched."""

    def send(self, request: Any, forward: Callable[[Any], Any]) -> Any:
        return forward(request)

    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any:
        return await forward(request)

    def begin(self, request: Any) -> Exchange | None:
        return None

    def admit(self, request: Any) -> bool:
        return True  # a websocket too goes on untouched, past the blocker


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

    def admit(self, request: Any) -> bool:
        """What no cassette can hold: the test's own cassette decides, as for what none of them has."""
        return self.main.admit(request)

    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any:
        for extra in self.extras:
            try:
                response = await extra.transport.send_async(request, None)
            except CassetteMiss:
                continue
            self._served(extra)
            return response
        return await self.main.send_async(request, forward)
