"""A credential in a test id: ``@pytest.mark.parametrize("api_key", [os.environ["OPENAI_API_KEY"]])``
puts the key in the id, and the id names the test's cassette folder, which reaches git. The plugin
names such a folder by a hash of the credential (the rest of the id kept, the same folder every run,
so replay finds it), under ``@pytest.mark.cassette`` and ``@pytest.mark.vcr``, and masks it in the
usage report and its summary; ``scan`` judges the names it walks, so a tree named before is flagged.

Real pytest sessions through pytester, against the local OpenAI-wire server; fake credentials are
built at run time.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import string
from pathlib import Path

import pytest

from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console
from httpx_cassette.storage.scan import scan_directory
from tests.pytester_project import NATIVE
from tests.security.placements import aws_key_id, hex32

ARGS = NATIVE
RECORD = ("--cassette-mode=record", "--record-mode=all")
REPLAY = ("--cassette-mode=replay", "--record-mode=none")
DEAD = "http://127.0.0.1:9/v1"  # nothing listens there: replay must not need the server
ALNUM = string.ascii_letters + string.digits


SUITE = """
import os
import httpx
import pytest

KEYS = os.environ["FAKE_KEYS"].split(",")

@pytest.mark.parametrize(("model", "api_key"), [("gpt-4o", key) for key in KEYS])
@pytest.mark.cassette
def test_with_key(api, model, api_key):
    assert httpx.get(f"{api}/models/{model}").json()["id"] == model

@pytest.mark.parametrize("api_key", KEYS)
@pytest.mark.vcr
def test_vcr_with_key(api, api_key):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.fixture(params=[os.environ["FAKE_PASSWORD"]])
def password(request):
    return request.param

@pytest.mark.parametrize("user", ["alice"])
@pytest.mark.cassette
def test_login(api, user, password):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.parametrize("model", ["gpt-4o"])
@pytest.mark.cassette
def test_ordinary(api, model):
    assert httpx.get(f"{api}/models/{model}").json()["id"] == model
"""


def _chars(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def fake_keys() -> list[str]:
    """A GitHub token (40 characters: kept whole as an id), an AWS key id, an OpenAI key (long: its
    head was kept), an Azure-style random hex key."""
    return [
        "ghp" + "_" + _chars(36),
        aws_key_id(),
        "sk-" + "proj-" + _chars(23) + "7" + _chars(24),
        hex32(),
    ]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*ARGS, *args)


def names(root: Path) -> list[str]:
    """Every path below ``root``, relative."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def folders(root: Path) -> list[str]:
    return sorted({f.parent.relative_to(root).as_posix() for f in root.rglob("*.json")})


def leaked(credentials: list[str], *texts: str) -> list[str]:
    """The credentials (their first characters) that one of ``texts`` holds."""
    return [c[:6] for c in credentials if any(c in text for text in texts)]


def test_a_credential_in_a_test_id_names_no_folder_and_replay_finds_the_same_folder(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = fake_keys()
    password = "pw" + _chars(6)  # short: a secret by its parameter's name (a fixture's), not its shape
    monkeypatch.setenv("FAKE_KEYS", ",".join(keys))
    monkeypatch.setenv("FAKE_PASSWORD", password)
    inner.makepyfile(test_ids=SUITE)

    run(inner, *RECORD, "--cassette-report=usage.json").assert_outcomes(passed=10)
    recorded = folders(inner.path / "cassettes")
    every = names(inner.path / "cassettes")
    report = (inner.path / "usage.json").read_text()
    assert leaked([*keys, password], *every, report) == []
    # One folder per test, the rest of the id readable; ordinary ids keep the names they had.
    assert len(recorded) == 10
    with_key = [f for f in recorded if f.startswith("test_ids/test_with_key-")]
    assert len(with_key) == 4
    assert all(f.startswith("test_ids/test_with_key-gpt-4o-secret-") for f in with_key)
    assert len([f for f in recorded if f.startswith("test_ids/test_vcr_with_key[secret-")]) == 4
    login = [f for f in recorded if "test_login" in f]
    assert len(login) == 1
    assert re.fullmatch(r"test_ids/test_login-secret-[0-9a-f]{8}-alice", login[0])
    assert "test_ids/test_ordinary-gpt-4o" in recorded
    assert json.loads(report)["complete"] is True

    # Replay, offline: every test finds the folder it recorded, and no other is made.
    monkeypatch.setenv("API_URL", DEAD)
    run(inner, *REPLAY).assert_outcomes(passed=10)
    assert folders(inner.path / "cassettes") == recorded


def test_the_report_and_its_summary_mask_a_folder_named_before_the_fix(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = fake_keys()
    monkeypatch.setenv("FAKE_KEYS", ",".join(keys))
    monkeypatch.setenv("FAKE_PASSWORD", "pw" + _chars(6))
    inner.makepyfile(test_ids=SUITE)
    run(inner, *RECORD).assert_outcomes(passed=10)
    # The folder an older version named after the key: no test uses it now.
    module = inner.path / "cassettes" / "test_ids"
    shutil.copytree(module / "test_ordinary-gpt-4o", module / f"test_with_key-gpt-4o-{keys[0]}")

    monkeypatch.setenv("API_URL", DEAD)
    result = run(inner, *REPLAY, "--cassette-report=usage.json")
    result.assert_outcomes(passed=10)
    report = json.loads((inner.path / "usage.json").read_text())
    assert len(report["unused_directories"]) == 1
    assert report["unused_directories"][0].startswith("cassettes/test_ids/test_with_key-gpt-4o-ghp_")
    start = next(i for i, line in enumerate(result.outlines) if "no test used" in line)
    summary = "\n".join(result.outlines[start:])
    assert "test_with_key-gpt-4o-ghp_" in summary
    assert leaked(keys, json.dumps(report), summary) == []


def test_scan_flags_a_credential_in_a_folder_or_file_name_masked(tmp_path: Path) -> None:
    key = "ghp" + "_" + _chars(36)
    aws = aws_key_id()
    folder = tmp_path / "cassettes" / "test_chat" / f"test_with_key-{key}"
    folder.mkdir(parents=True)
    (folder / f"get-models-{aws}.json").write_text('{"not": "a cassette"}\n')
    (folder / "get-models-0123456789ab.json").write_text('{"note": "sk-' + "proj-" + _chars(30) + '7"}\n')
    ordinary = tmp_path / "cassettes" / "test_chat" / "test_plain-gpt-4o"
    ordinary.mkdir()
    (ordinary / "get-models-0123456789ab.json").write_text('{"ok": true}\n')

    findings = scan_directory(tmp_path / "cassettes")
    where = sorted((f.path, f.kind) for f in findings)
    assert where == [
        ("$.note", "OpenAI API key"),
        ("(a file name)", "AWS access key id"),
        ("(a folder name)", "GitHub token"),
    ]
    assert leaked([key, aws], *(str(f) for f in findings)) == []
    assert all("rename" in f.remedy() for f in findings if f.path.startswith("(a "))

    out, err = io.StringIO(), io.StringIO()
    code = cli_main(["scan", str(tmp_path / "cassettes")], Console(out, err))
    assert code == 1
    assert "3 possible secrets" in out.getvalue()
    assert leaked([key, aws], out.getvalue(), err.getvalue()) == []
    # An allowed value is allowed in a name too.
    assert [f.kind for f in scan_directory(tmp_path / "cassettes", [key, aws])] == ["OpenAI API key"]
