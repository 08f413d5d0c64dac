"""The plugin's command line and ini options (pytest-recording's names are added by `vcr_compat`)."""

from __future__ import annotations

import pytest

from httpx_cassette.core.modes import ALIASES, MODES

__all__ = ["register"]


def register(parser: pytest.Parser) -> None:
    """Add the ``--cassette-*`` options and the ``cassette_*`` ini options."""
    group = parser.getgroup(
        "httpx_cassette", "httpx_cassette: record and replay HTTP traffic (httpx, httpx2, requests, aiohttp)"
    )
    aliases = ", ".join(f"{alias} = {ALIASES[alias][0]}" for alias in ALIASES)
    group.addoption(
        "--cassette-mode",
        choices=[*MODES, *ALIASES],
        default=None,
        help=f"replay (default), record, record-missing or live; vcrpy's names work too ({aliases};"
        " once records only an empty cassette, rewrite empties it first)",
    )
    group.addoption("--cassette-dir", default=None, metavar="DIR", help="one folder for all cassettes")
    group.addoption(
        "--cassette-block-network",
        action="store_true",
        default=False,
        help="fail any httpx, httpx2, requests or aiohttp request that is not served from a cassette",
    )
    group.addoption(
        "--cassette-prune",
        action="store_true",
        default=False,
        help="delete cassette directories no test used",
    )
    group.addoption(
        "--cassette-keep-failed",
        action="store_true",
        default=False,
        help="keep what a test that failed in a record mode recorded (default: undo it)",
    )
    group.addoption("--cassette-report", default=None, metavar="PATH", help="write a JSON usage report")
    parser.addini(
        "cassette_dir", "cassette folder beside each test file (absolute: one for all)", default="cassettes"
    )
    parser.addini("cassette_mode", "default cassette mode (--cassette-mode wins)", default="")
    parser.addini("cassette_unused", "replay with unused recordings: warn, fail or ignore", default="warn")
    parser.addini(
        "cassette_caught_errors", "a test caught a miss or a blocked request: fail or pass", default="fail"
    )
    parser.addini("cassette_ignore_hosts", "hosts that pass through every cassette", type="args", default=[])
    parser.addini("cassette_ignore_localhost", "loopback requests pass through", type="bool", default=False)
    parser.addini("cassette_ignore", "rules: METHOD HOST PATH [empty|pass]", type="linelist", default=[])
    parser.addini("cassette_ignore_defaults", "ignore known telemetry endpoints", type="bool", default=True)
    parser.addini("cassette_block_network", "like --cassette-block-network", type="bool", default=False)
    group.addoption(
        "--cassette-strict-age",
        action="store_true",
        default=False,
        help="a replayed recording older than max_age fails the test (default: a warning)",
    )
    parser.addini("cassette_max_age", "recordings older than this warn in replay (90d, 12h...)", default="")
    parser.addini("cassette_ci_guard", "under $CI, refuse record modes not chosen explicitly", "bool", True)
