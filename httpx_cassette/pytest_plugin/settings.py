"""The pytest plugin's settings for one run, read from its command line and ini options.

Bad values are `pytest.UsageError`\\ s, raised before any test runs. pytest-recording's options
(``--record-mode``, ``--block-network``, ``--allowed-hosts``, ``--disable-recording``) are read only
when this plugin has those names: with pytest-recording installed they are its own, and left to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette.config import IgnoreRule, parse_age
from httpx_cassette.core import modes
from httpx_cassette.core.ignore import TELEMETRY, IgnoreRules
from httpx_cassette.errors import CassetteError
from httpx_cassette.pytest_plugin.config_fixture import guard_ci
from httpx_cassette.pytest_plugin.marker import CAUGHT_POLICIES
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
    cli_source: str = "--cassette-mode"  # or --record-mode, pytest-recording's name
    block_source: str = "--cassette-block-network"
    allowed_hosts: tuple[str, ...] = field(default=())  # --allowed-hosts: regexes let through the block
    disable_recording: bool = False  # --disable-recording: vcr markers open no cassette
    strict_age: bool = False
    max_age: float | None = None
    ci_guard: bool = True
    caught: str = "fail"  # a test that caught a miss or a blocked request: fails, or passes as it says

    @classmethod
    def of(cls, config: pytest.Config, *, vcr_names: bool = True) -> Settings:
        """The run's settings; without ``vcr_names`` (another plugin has pytest-recording's names)
        its options are not read."""
        invoked = config.invocation_params.dir
        vcr = _vcr_options(config) if vcr_names else {}
        cli_dir = config.getoption("cassette_dir")
        root = invoked / cli_dir if cli_dir else Path(str(config.getini("cassette_dir")))
        report = config.getoption("cassette_report")
        settings = cls(
            layout=Layout(root, config.rootpath),
            unused=_unused_policy(config),  # a bad value is reported before a bad ini mode
            caught=_caught_policy(config),
            cli_mode=config.getoption("cassette_mode") or vcr.get("record_mode"),
            ini_mode=_ini_mode(config),
            ignore_hosts=tuple(config.getini("cassette_ignore_hosts")),
            ignore_localhost=bool(config.getini("cassette_ignore_localhost")),
            ignore=_ignore_rules(config),
            ignore_defaults=bool(config.getini("cassette_ignore_defaults")),
            block_network=bool(
                config.getoption("cassette_block_network")
                or config.getini("cassette_block_network")
                or vcr.get("block_network")
            ),
            keep_failed=bool(config.getoption("cassette_keep_failed")),
            prune=bool(config.getoption("cassette_prune")),
            report=invoked / report if report else None,
            function_patterns=tuple(config.getini("python_functions")),
            module_patterns=tuple(config.getini("python_files")),
            **_later_options(config, vcr),
        )
        settings._check()
        return settings

    def ignore_rules(self) -> IgnoreRules:
        """The run's ignore rules (the ini's, then the known telemetry unless turned off)."""
        return IgnoreRules((*self.ignore, *(TELEMETRY if self.ignore_defaults else ())))

    def default_mode(self) -> tuple[str, str]:
        """The mode tests without ``mode=`` in their marker use, and where it came from."""
        mode, source = modes.default_mode(self.cli_mode, self.ini_mode)
        return mode, self.cli_source if source == "--cassette-mode" else source

    def _check(self) -> None:
        try:
            mode = self.default_mode()[0]  # a bad $HTTPX_CASSETTE_MODE is a usage error up front
        except CassetteError as exc:
            raise pytest.UsageError(str(exc)) from None
        if self.block_network and mode == "live":
            raise pytest.UsageError("--cassette-block-network cannot be combined with cassette mode live")
        try:
            guard_ci(*self.default_mode(), None, self.ci_guard)
        except CassetteError as exc:
            raise pytest.UsageError(str(exc)) from None


def _vcr_options(config: pytest.Config) -> dict[str, Any]:
    """pytest-recording's options, as this plugin added them (absent when another plugin has them)."""
    return {
        "record_mode": config.getoption("record_mode", None),
        "block_network": bool(config.getoption("block_network", False)),
        "allowed_hosts": config.getoption("allowed_hosts", None),
        "disable_recording": bool(config.getoption("disable_recording", False)),
    }


def _later_options(config: pytest.Config, vcr: dict[str, Any]) -> dict[str, Any]:
    """The options added with pytest-recording's names (``vcr``: `_vcr_options`), age and the CI
    guard."""
    record_mode, block, hosts = vcr.get("record_mode"), vcr.get("block_network"), vcr.get("allowed_hosts")
    max_age = str(config.getini("cassette_max_age"))
    try:
        age = parse_age(max_age) if max_age else None
    except CassetteError as exc:
        raise pytest.UsageError(f"cassette_max_age ini option: {exc}") from None
    return {
        "cli_source": "--record-mode"
        if record_mode and not config.getoption("cassette_mode")
        else "--cassette-mode",
        "block_source": "--block-network" if block else "--cassette-block-network",
        "allowed_hosts": tuple(h for h in str(hosts or "").split(",") if h),
        "disable_recording": bool(vcr.get("disable_recording")),
        "strict_age": bool(config.getoption("cassette_strict_age")),
        "max_age": age,
        "ci_guard": bool(config.getini("cassette_ci_guard")),
    }


def _caught_policy(config: pytest.Config) -> str:
    caught = str(config.getini("cassette_caught_errors"))
    if caught not in CAUGHT_POLICIES:
        use = ", ".join(CAUGHT_POLICIES)
        raise pytest.UsageError(f"cassette_caught_errors = {caught!r}: use one of {use}")
    return caught


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
