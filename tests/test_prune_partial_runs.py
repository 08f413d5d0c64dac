"""A usage report from a partial pytest run never gets the recordings of the tests it did not run
pruned: it counts the collected tests with a cassette that did not run to their end (deselected,
skipped, not reached) and names their folders as kept, and ``httpx-cassette prune`` deletes only unused
files in cassettes that tests of the run opened and passed with: the others' are pruned, so a suite with
a skipped test can still prune.

Each test records a suite whose tests make two requests (``EXTRA=1``), then runs it without the second
request, so every test's folder holds one file no test used: what a wrong prune would delete.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.pytest_plugin.usage import PASSED, Usage
from tests.pytester_project import NATIVE

SUITE = """
import os
import httpx
import pytest

def fetch(api, model):
    httpx.get(f"{api}/models/{model}")
    if os.environ.get("EXTRA"):  # recorded, not replayed: the file no test uses
        httpx.get(f"{api}/models/{model}-extra")

@pytest.mark.cassette
@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini"])
def test_model(api, model):
    fetch(api, model)

def test_fixture(api, cassette):
    fetch(api, "gpt-4.1-mini")
    assert not os.environ.get("FAIL_FIXTURE")

@pytest.mark.cassette
@pytest.mark.skipif(os.environ.get("SKIP_SLOW") == "1", reason="slow")
def test_slow(api):
    fetch(api, "text-embedding-3-small")
"""
FOLDERS = ["test_model-gpt-4o", "test_model-gpt-4o-mini", "test_fixture", "test_slow"]
TESTS = len(FOLDERS)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    if "-n" in args:  # xdist workers are processes of their own
        return pytester.runpytest_subprocess(*NATIVE, *args)
    return pytester.runpytest_inprocess(*NATIVE, *args)


def prune(pytester: pytest.Pytester) -> tuple[int, str, str]:
    return cli("prune", str(pytester.path / "cassettes"), "--used-by", str(pytester.path / "usage.json"))


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def files(root: Path) -> dict[str, int]:
    """How many cassette files each test folder holds."""
    return {folder: len(list((root / folder).glob("*.json"))) for folder in FOLDERS}


@pytest.fixture
def suite(inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The suite, recorded with two requests per test; the module's cassette folder."""
    inner.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("EXTRA", "1")
    run(inner, "--cassette-mode", "record").assert_outcomes(passed=TESTS)
    monkeypatch.delenv("EXTRA")
    root = inner.path / "cassettes" / "test_suite"
    assert files(root) == dict.fromkeys(FOLDERS, 2)
    return root


def report(pytester: pytest.Pytester) -> dict[str, object]:
    data: dict[str, object] = json.loads((pytester.path / "usage.json").read_text())
    return data


@pytest.mark.parametrize(
    ("args", "env", "not_run", "pruned"),
    [
        (["-k", "gpt-4o-mini"], {}, [FOLDERS[0], *FOLDERS[2:]], [FOLDERS[1]]),
        ([], {"SKIP_SLOW": "1"}, ["test_slow"], FOLDERS[:3]),
        (["-x"], {"FAIL_FIXTURE": "1"}, ["test_slow"], FOLDERS[:2]),
    ],
    ids=["deselected", "skipped", "stopped"],
)
def test_a_partial_run_keeps_the_folders_of_the_tests_it_left_out_and_prunes_the_others(
    inner: pytest.Pytester,
    suite: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    not_run: list[str],
    pruned: list[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    run(inner, "--cassette-report", "usage.json", *args)
    data = report(inner)
    assert (data["complete"], data["not_run"]) == (True, len(not_run))  # not refused for tests left out
    assert set(data["kept"]) >= {f"cassettes/test_suite/{folder}" for folder in not_run}  # type: ignore[arg-type]
    status, out, err = prune(inner)
    assert (status, err) == (0, "")
    assert out.splitlines()[-2] == f"deleted {len(pruned)} unused interaction{'s' if len(pruned) > 1 else ''}"
    assert files(suite) == {**dict.fromkeys(FOLDERS, 2), **dict.fromkeys(pruned, 1)}


def test_a_run_of_one_module_of_several_prunes_only_the_cassettes_its_tests_opened(
    inner: pytest.Pytester, suite: Path
) -> None:
    # Tests of other modules, or others of this one left out by a node id, are not collected: the report
    # is complete, but only the cassettes the run's tests opened hold files prune may delete.
    run(inner, "--cassette-report", "usage.json", "test_suite.py::test_fixture").assert_outcomes(passed=1)
    assert report(inner)["complete"] is True
    status, out, _ = prune(inner)
    assert status == 0
    assert out.splitlines()[-2:] == [
        "deleted 1 unused interaction",
        "kept 6 unused interactions: the report does not show the tests that own their folders running to a"
        " pass (no test of the run opened the folder, or its test did not run or failed)",
    ]
    assert files(suite) == {**dict.fromkeys(FOLDERS, 2), "test_fixture": 1}


def test_a_failed_test_keeps_its_cassette_and_the_others_are_pruned(
    inner: pytest.Pytester, suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A test that failed may have stopped before using its recordings: they are not unused.
    monkeypatch.setenv("FAIL_FIXTURE", "1")
    run(inner, "--cassette-report", "usage.json").assert_outcomes(passed=3, failed=1)
    data = report(inner)
    assert (data["complete"], data["not_run"]) == (True, 0)
    assert data["kept"] == ["cassettes/test_suite/test_fixture"]
    status, _, _ = prune(inner)
    assert status == 0
    assert files(suite) == {**dict.fromkeys(FOLDERS, 1), "test_fixture": 2}


def test_tests_a_plugin_drops_silently_are_not_run_and_their_folders_are_never_pruned(
    inner: pytest.Pytester, suite: Path
) -> None:
    # A plugin that removes items without pytest_deselected (a sharding plugin): the tests it dropped are
    # still collected tests, so their folders are no stale folders for --cassette-prune either.
    inner.makeconftest(
        (inner.path / "conftest.py").read_text()
        + "\ndef pytest_collection_modifyitems(items):\n    items[:] = items[:1]\n"
    )
    result = run(inner, "--cassette-report", "usage.json", "--cassette-prune")
    result.assert_outcomes(passed=1)
    assert "no test used" not in result.stdout.str()
    data = report(inner)
    assert (data["complete"], data["not_run"], data["unused_directories"]) == (True, TESTS - 1, [])
    assert files(suite) == dict.fromkeys(FOLDERS, 2)


def test_xdist_workers_report_the_tests_no_worker_ran(inner: pytest.Pytester, suite: Path) -> None:
    pytest.importorskip("xdist")
    run(inner, "-n", "2", "--cassette-report", "usage.json", "-k", "not slow").assert_outcomes(passed=3)
    data = report(inner)
    assert (data["complete"], data["not_run"], data["kept"]) == (True, 1, ["cassettes/test_suite/test_slow"])
    run(inner, "-n", "2", "--cassette-report", "usage.json").assert_outcomes(passed=TESTS)
    data = report(inner)
    assert (data["complete"], data["not_run"], data["kept"]) == (True, 0, [])
    status, out, _ = prune(inner)
    assert (status, out.splitlines()[-1]) == (0, "deleted 4 unused interactions")
    assert files(suite) == dict.fromkeys(FOLDERS, 1)


def test_a_test_skipped_after_opening_a_cassette_keeps_what_it_opened() -> None:
    # A cassette opened in the body (`use_cassette`, unseen at collection) by a test that then skipped:
    # the test did not run to its end, so what it opened is kept though the report is complete.
    usage = Usage(directories={"/c/by_hand", "/c/test_a"}, tests={"t::a": {"/c/test_a"}})
    usage.opened_by = {"t::a": {"/c/test_a"}, "t::skipped": {"/c/by_hand"}}
    usage.ended("t::a", PASSED)
    assert (usage.complete, usage.not_run(), usage.kept()) == (True, [], {"/c/by_hand"})
