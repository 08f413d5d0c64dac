"""The pytest plugin's settings for one run, read from its command line and ini options.

Bad values are `pytest.UsageError`\\ s, raised before any test runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from httpx_cassette.config import IgnoreRule
from httpx_cassette.core import modes
from httpx_cassette.core.ignore import TELEMETRY, IgnoreRules
from httpx_cassette.errors import CassetteError
from httpx_cassette.pytest_plugin.paths import Layout

__all__ = ["UNUSED_POLICIES", "Settings"]

UNUSED_POLICIES = ("warn", "fail", "ignore")


@dataclass
class Settings:
    """The plugin's command line and ini options for this run (`of` reads and checks them)."""

    layout: Layout
    cli_mode: str | None
    ini_mode: str | None
    unused: str
    ignore_hosts: tuple[str, ...]
    ignore_localhost: bool
    ignore: tuple[IgnoreRule, ...]
    ignore_defaults: bool
    block_network: bool
    keep_failed: bool
    prune: bool
    report: Path | None
    function_patterns: tuple[str, ...]  # python_functions: which cassette folders look like a test's
    module_patterns: tuple[str, ...]  # python_files: which look like a test module's

    @classmethod
    def of(cls, config: pytest.Config) -> Settings:
        invoked = config.invocation_params.dir
        cli_dir = config.getoption("cassette_dir")
        root = invoked / cli_dir if cli_dir else Path(str(config.getini("cassette_dir")))
        report = config.getoption("cassette_report")
        settings = cls(
            layout=Layout(root, config.rootpath),
            unused=_unused_policy(config),  # a bad value is reported before a bad ini mode
            cli_mode=config.getoption("cassette_mode"),
            ini_mode=_ini_mode(config),
            ignore_hosts=tuple(config.getini("cassette_ignore_hosts")),
            ignore_localhost=bool(config.getini("cassette_ignore_localhost")),
            ignore=_ignore_rules(config),
            ignore_defaults=bool(config.getini("cassette_ignore_defaults")),
            block_network=bool(
                config.getoption("cassette_block_network") or config.getini("cassette_block_network")
            ),
            keep_failed=bool(config.getoption("cassette_keep_failed")),
            prune=bool(config.getoption("cassette_prune")),
            report=invoked / report if report else None,
            function_patterns=tuple(config.getini("python_functions")),
            module_patterns=tuple(config.getini("python_files")),
        )
        settings._check()
        return settings

    def ignore_rules(self) -> IgnoreRules:
        """The run's ignore rules (the ini's, then the known telemetry unless turned off)."""
        return IgnoreRules((*self.ignore, *(TELEMETRY if self.ignore_defaults else ())))

    def default_mode(self) -> tuple[str, str]:
        """The mode tests without ``mode=`` in their marker use, and where it came from."""
        return modes.default_mode(self.cli_mode, self.ini_mode)

    def _check(self) -> None:
        try:
            mode = self.default_mode()[0]  # a bad $HTTPX_CASSETTE_MODE is a usage error up front
        except CassetteError as exc:
            raise pytest.UsageError(str(exc)) from None
        if self.block_network and mode == "live":
            raise pytest.UsageError("--cassette-block-network cannot be combined with cassette mode live")


def _unused_policy(config: pytest.Config) -> str:
    unused = str(config.getini("cassette_unused"))
    if unused not in UNUSED_POLICIES:
        raise pytest.UsageError(f"cassette_unused = {unused!r}: use one of {', '.join(UNUSED_POLICIES)}")
    return unused


def _ignore_rules(config: pytest.Config) -> tuple[IgnoreRule, ...]:
    try:
        return tuple(IgnoreRule.parse(line) for line in config.getini("cassette_ignore") if line.strip())
    except CassetteError as exc:
        raise pytest.UsageError(f"cassette_ignore: {exc}") from None


def _ini_mode(config: pytest.Config) -> str | None:
    ini_mode = str(config.getini("cassette_mode")) or None
    try:
        return modes.checked(ini_mode, "the cassette_mode ini option") if ini_mode else None
    except CassetteError as exc:
        raise pytest.UsageError(str(exc)) from None
