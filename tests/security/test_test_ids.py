"""A credential in a test id: ``@pytest.mark.parametrize("api_key", [os.environ["OPENAI_API_KEY"]])``
puts the key in the id, and the id names the test's cassette folder, which reaches git. The plugin
names such a folder by a hash of the credential (the rest of the id kept, the same folder every run,
so replay finds it), under ``@pytest.mark.cassette`` and ``@pytest.mark.vcr``, and masks it in the
usage report and its summary; ``scan`` judges the names it walks, so a tree named before is flagged.
A password in a pair (``bob:<password>``, ``user:pass@host``), set to a secret name (``password: ...``)
or in a header line (``Authorization: Token ...``) is hidden too; ordinary ids keep their names.

Real pytest sessions through pytester, against the local OpenAI-wire server; fake credentials are
built at run time.
"""

from __future__ import annotations

import base64
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
from httpx_cassette.pytest_plugin.paths import hidden, safe_id
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

LABELS = ["gpt-4o-mini", "2024-07-18", "model:gpt-4", "en:fr", "anthropic:claude-3-5-sonnet-latest"]
LABELS += ["email:bob@example.com", "invalid-api-key:401", "cookie:none"]

@pytest.mark.parametrize("label", LABELS)
@pytest.mark.cassette
def test_label(api, label):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.parametrize(("mode", "client"), [("stream", "sync")])
@pytest.mark.vcr
def test_chat(api, mode, client):
    assert httpx.get(f"{api}/models").json()["object"] == "list"
"""
# The names ordinary ids had before passwords in pairs were hidden: they must not change (a renamed
# folder is recorded again).
ORDINARY_FOLDERS = [
    "test_ids/test_ordinary-gpt-4o",
    "test_ids/test_label-gpt-4o-mini",
    "test_ids/test_label-2024-07-18",
    "test_ids/test_label-model_gpt-4-61c5e34f",
    "test_ids/test_label-en_fr-5c60d7fc",
    "test_ids/test_label-anthropic_claude-3-5-sonnet-lat-9bab1d4d",
    "test_ids/test_label-email_bob_example.com-cba4f2da",
    "test_ids/test_label-invalid-api-key_401-7501ad52",
    "test_ids/test_label-cookie_none-51bb9a00",
    "test_ids/test_chat[stream-sync]",
]
TESTS = 19  # in SUITE


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

    run(inner, *RECORD, "--cassette-report=usage.json").assert_outcomes(passed=TESTS)
    recorded = folders(inner.path / "cassettes")
    every = names(inner.path / "cassettes")
    report = (inner.path / "usage.json").read_text()
    assert leaked([*keys, password], *every, report) == []
    # One folder per test, the rest of the id readable; ordinary ids keep the names they had.
    assert len(recorded) == TESTS
    with_key = [f for f in recorded if f.startswith("test_ids/test_with_key-")]
    assert len(with_key) == 4
    assert all(f.startswith("test_ids/test_with_key-gpt-4o-secret-") for f in with_key)
    assert len([f for f in recorded if f.startswith("test_ids/test_vcr_with_key[secret-")]) == 4
    login = [f for f in recorded if "test_login" in f]
    assert len(login) == 1
    assert re.fullmatch(r"test_ids/test_login-secret-[0-9a-f]{8}-alice", login[0])
    assert set(ORDINARY_FOLDERS) <= set(recorded)
    assert json.loads(report)["complete"] is True

    # Replay, offline: every test finds the folder it recorded, and no other is made.
    monkeypatch.setenv("API_URL", DEAD)
    run(inner, *REPLAY).assert_outcomes(passed=TESTS)
    assert folders(inner.path / "cassettes") == recorded


def test_the_report_and_its_summary_mask_a_folder_named_before_the_fix(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = fake_keys()
    monkeypatch.setenv("FAKE_KEYS", ",".join(keys))
    monkeypatch.setenv("FAKE_PASSWORD", "pw" + _chars(6))
    inner.makepyfile(test_ids=SUITE)
    run(inner, *RECORD).assert_outcomes(passed=TESTS)
    # The folder an older version named after the key: no test uses it now.
    module = inner.path / "cassettes" / "test_ids"
    shutil.copytree(module / "test_ordinary-gpt-4o", module / f"test_with_key-gpt-4o-{keys[0]}")

    monkeypatch.setenv("API_URL", DEAD)
    result = run(inner, *REPLAY, "--cassette-report=usage.json")
    result.assert_outcomes(passed=TESTS)
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


PAIRS = """
import base64
import os
import httpx
import pytest

PW, SHORT = os.environ["FAKE_PASSWORD"], os.environ["FAKE_SHORT"]
BASIC = base64.b64encode(f"bob:{SHORT}".encode()).decode()

@pytest.mark.parametrize("creds", [f"bob:{PW}"])
@pytest.mark.cassette
def test_creds(api, creds):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

SETTINGS = [("gpt-4o", f"password: {SHORT}"), ("gpt-4o", f"api_key: {PW}")]
HEADERS = [f"Authorization: Token {PW}", f"Authorization: Basic {BASIC}", f"X-Api-Key: {PW}"]

@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.cassette
def test_header(api, header):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.parametrize(("model", "setting"), SETTINGS)
@pytest.mark.cassette
def test_setting(api, model, setting):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.parametrize("dsn", [f"bob:{SHORT}@db.example.com:5432"])
@pytest.mark.cassette
def test_dsn(api, dsn):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.parametrize("n", [pytest.param(1, id=f"login-bob:{PW}")])
@pytest.mark.cassette
def test_given_id(api, n):
    assert httpx.get(f"{api}/models").json()["object"] == "list"

@pytest.mark.parametrize("creds", [f"bob:{PW}"])
@pytest.mark.vcr
def test_vcr_creds(api, creds):
    assert httpx.get(f"{api}/models").json()["object"] == "list"
"""
PAIR_TESTS = 9
_HASH = "secret-[0-9a-f]{8}"


def fake_passwords() -> tuple[str, str, list[str]]:
    """A password shaped like a token (letters and digits mixed: ``Tr0ub4dor-...``), a short one that is
    no plain word, and the random parts a leak would show."""
    tail, short = _chars(8, string.ascii_lowercase), "pw" + _chars(5, string.ascii_lowercase) + "7"
    return "Tr0ub4dor-" + tail, short, [tail, short]


def test_a_password_in_a_pair_or_a_header_line_names_no_folder_and_replay_finds_the_same_folder(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    password, short, parts = fake_passwords()
    monkeypatch.setenv("FAKE_PASSWORD", password)
    monkeypatch.setenv("FAKE_SHORT", short)
    inner.makepyfile(test_pairs=PAIRS)

    run(inner, *RECORD, "--cassette-report=usage.json").assert_outcomes(passed=PAIR_TESTS)
    recorded = folders(inner.path / "cassettes")
    report = (inner.path / "usage.json").read_text()
    assert leaked([password, *parts], *names(inner.path / "cassettes"), report) == []
    assert len(recorded) == PAIR_TESTS
    assert json.loads(report)["complete"] is True
    # The name before the secret stays readable.
    expected = [
        rf"test_creds-bob_{_HASH}-[0-9a-f]{{8}}",
        rf"test_dsn-bob_{_HASH}_db.example-[0-9a-f]{{8}}",
        rf"test_given_id-login-bob_{_HASH}-[0-9a-f]{{8}}",
        rf"test_setting-gpt-4o-password_{_HASH}-[0-9a-f]{{8}}",
        rf"test_setting-gpt-4o-api_key_{_HASH}-[0-9a-f]{{8}}",
        rf"test_vcr_creds\[bob-{_HASH}\]",
    ]
    for pattern in expected:
        assert [f for f in recorded if re.fullmatch(f"test_pairs/{pattern}", f)], (pattern, recorded)
    assert len([f for f in recorded if f.startswith("test_pairs/test_header-")]) == 3

    # Replay, offline: the same names again.
    monkeypatch.setenv("API_URL", DEAD)
    run(inner, *REPLAY, "--cassette-report=replayed.json").assert_outcomes(passed=PAIR_TESTS)
    assert folders(inner.path / "cassettes") == recorded
    assert json.loads((inner.path / "replayed.json").read_text())["unused_directories"] == []


SECRET_IDS = [
    "bob:{pw}",  # a user:password pair, the password shaped like a token
    "gpt-4o-bob:{pw}-sync",
    "Authorization: Token {pw}",  # a header line: a scheme and a credential
    "Authorization: Basic {basic}",
    "X-Api-Key: {pw}",
    "X-Auth-Token: Token {pw}",
    "password: {short}",  # a secret name set to a value, however short
    "password: {short} two",
    "api_key: {pw}",
    "login as password={short} today",
    "bob:{short}@db.example.com",  # user:pass@host, no scheme
    "bob:{short}@localhost:5432/app",
]


@pytest.mark.parametrize("template", SECRET_IDS)
def test_a_password_in_a_pair_or_a_header_line_of_an_id_is_hidden_the_same_every_time(template: str) -> None:
    password, short, parts = fake_passwords()
    basic = base64.b64encode(f"bob:{short}".encode()).decode()
    test_id = template.format(pw=password, short=short, basic=basic)
    for params in ({}, {"value": test_id}):  # an ids= id, a parameter's value
        shown = hidden(test_id, params)
        assert leaked([password, basic, *parts], shown, safe_id(test_id, params)) == [], shown
        assert re.search(_HASH, shown)
        assert hidden(test_id, params) == shown


@pytest.mark.parametrize(
    "test_id",
    [
        *("gpt-4o-mini", "stream-sync", "test_chat[stream-sync]", "model:gpt-4", "en:fr", "2024-07-18"),
        *("12:30:00", "2024-01-01T12:30:00Z", "localhost:8080", "redis://localhost:6379/0"),
        *("openai:gpt-4o-mini", "anthropic:claude-3-5-sonnet-latest", "ollama:llama3.1:8b"),
        *("mistralai:Mixtral-8x7B-Instruct-v0.1", "hf:TheBloke/Mistral-7B-Instruct-v0.2-GGUF"),
        *("qwen2.5-coder:32b-instruct-q4_K_M", "ft:gpt-4o-mini-2024-07-18:acme::9xYz1AbC"),
        *("bedrock:anthropic.claude-3-sonnet-20240229-v1:0", "id:27796668-7351-40ac-acc4-024aee8995a5"),
        *("id:msg_01XFDUDYJgAACzvnptvVoYEL", "sha:3f2a1b9c8d7e6f5a4b3c", "email:bob@example.com"),
        *("user:alice.smith@example.com", "mailto:bob@example.com", "invalid-api-key:401", "cookie:none"),
        *("password-policy:strict", "password:None", "password:<PASSWORD>", "api_key_env:OPENAI_API_KEY"),
        *("Authorization: none", "key: value", "token: 100", "auth: basic", "Content-Type: application/json"),
        *("What is the capital of France?", "user:What is 2+2?", "meta-llama/Llama-3.1-8B-Instruct"),
    ],
)
def test_an_ordinary_id_keeps_its_name(test_id: str) -> None:
    assert hidden(test_id) == test_id
    assert hidden(test_id, {"value": test_id}) == test_id
