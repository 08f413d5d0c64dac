"""Which collected tests use a cassette, and which of them ran to their end: the per-test evidence of
the usage report (`httpx_cassette.pytest_plugin.usage`). A partial run (``-k``, a skipped test, ``-x``,
``--lf``) writes a report that names the folders of the tests it did not run as ``kept``, so
``httpx-cassette prune --used-by`` never deletes their recordings and prunes the others'. A crashed
pytest-xdist worker's evidence is missing: that report is incomplete, and refused.

The tests are taken before any plugin deselects one (pytest's ``-k`` and ``-m``, ``--lf``, a plugin
that drops items without saying so): every collected test counts. A test uses a cassette when it has
the ``cassette`` marker, asks for the ``cassette`` fixture, has a ``vcr`` marker (with pytest-recording's
names) or is decorated with ``use_cassette``; a cassette a fixture opens at run time cannot be seen
before it runs.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable

import pytest

from httpx_cassette.pytest_plugin.settings import Settings
from httpx_cassette.pytest_plugin.stale import cassette_folders
from httpx_cassette.pytest_plugin.usage import FAILED, PASSED, Usage

__all__ = ["Runs"]


class Runs:
    """Hooks registered beside the plugin's: the collected tests, the running one, how each ended."""

    def __init__(self, usage: Usage, settings: Settings, *, vcr_names: bool) -> None:
        self.usage = usage
        self.settings = settings
        self.vcr_names = vcr_names
        self.collected: list[pytest.Function] = []
        self.current: str | None = None  # the node id of the test running now
        self._phases: dict[str, dict[str, pytest.TestReport]] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected = [item for item in items if isinstance(item, pytest.Function)]
        for item in self.collected:
            folders = cassette_folders(item, self.settings, vcr_names=self.vcr_names)
            if folders is not None:
                self.usage.tests[item.nodeid] = {folder.resolve().as_posix() for folder in folders}

    def functions(self, *more: Iterable[pytest.Item]) -> list[pytest.Function]:
        """Every collected test function (deselected ones too), and those of ``more``, once each."""
        found = {id(item): item for item in self.collected}
        extra = [item for items in more for item in items if isinstance(item, pytest.Function)]
        found.update((id(item), item) for item in extra)
        return list(found.values())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self.current = item.nodeid
        try:
            return (yield)
        finally:
            self.current = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Under pytest-xdist the controller sees its workers' reports here too.
        phases = self._phases.setdefault(report.nodeid, {})
        phases[report.when] = report
        if report.when == "teardown":
            outcome = _outcome(self._phases.pop(report.nodeid))
            if outcome is not None:
                self.usage.ended(report.nodeid, outcome)


def _outcome(phases: dict[str, pytest.TestReport]) -> str | None:
    """How a test whose teardown was reported ended: None when its body did not run (skipped, deselected
    by a skip in its body, an error in setup); FAILED when any phase failed, or it was an xfail."""
    call = phases.get("call")
    if call is None or (call.skipped and not hasattr(call, "wasxfail")):
        return None
    failed = any(report.failed for report in phases.values()) or hasattr(call, "wasxfail")
    return FAILED if failed or not call.passed else PASSED
