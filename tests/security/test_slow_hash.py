"""A secret that must still be told apart is kept as a slow, salted hash, never as its bare sha256: a
matched secret request header (``match_headers=["x-db-password"]``), a credential in a pytest test id
(the folder ``secret-<8 hex>``), a llama-stack request header kept in ``origin.rest``. A bare sha256 of
a weak password is reversed by a dictionary at once; ``scrypt:<hex>`` (16 MiB and tens of ms a try,
salted with the header's name) is not. Files and folders named before (``sha256:<hex>``, the old
``secret-<8 hex>``) are still found.

Through the public API (`CassetteTransport` over `httpx.MockTransport`, the CLI, pytester sessions);
fake credentials are built at run time.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport
from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console
from httpx_cassette.core.key import KeyOptions, key_of
from httpx_cassette.core.modes import Mode
from httpx_cassette.core.secrets import hashed, is_hashed
from httpx_cassette.model.cassette import Request
from httpx_cassette.pytest_plugin.paths import hidden
from httpx_cassette.storage.files import file_name
from tests.pytester_project import NATIVE

PASSWORD = "Summer" + "2024!"  # a weak password: the first words of any dictionary
HEADER = "x-db-password"
URL = "https://api.example.com/v1/report"
SCRYPT = re.compile(r"scrypt:[0-9a-f]{64}")
# A dictionary attack on the old form: a few hundred guesses, each a bare sha256.
WORDS = [f"{w}{y}{s}" for w in ("password", "Winter", "Summer") for y in range(2000, 2031) for s in ("", "!")]


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def transport(path: Path, mode: Mode) -> CassetteTransport:
    return CassetteTransport(path, mode=mode, match_headers=[HEADER], inner=httpx.MockTransport(_ok))


def get(t: CassetteTransport, password: str) -> httpx.Response:
    with httpx.Client(transport=t) as client:
        return client.get(URL, headers={HEADER: password})


def stored_header(path: Path) -> str:
    [file] = path.glob("*.json")
    value: str = json.loads(file.read_text())["request"]["headers"][HEADER]
    return value


# -- match_headers -------------------------------------------------------------------------------------


def test_a_matched_secret_header_is_stored_as_a_salted_scrypt_hash(tmp_path: Path) -> None:
    get(transport(tmp_path, "record"), PASSWORD)
    stored = stored_header(tmp_path)
    assert SCRYPT.fullmatch(stored)
    text = "".join(p.read_text() for p in tmp_path.glob("*.json"))
    assert PASSWORD not in text
    assert sha256_hex(PASSWORD) not in text  # the bare sha256 is nowhere in the file
    assert not any(sha256_hex(word) in stored for word in WORDS)
    # Salted with the header's name: the same value under another header hashes differently.
    assert hashed(PASSWORD, "x-other-password") != stored
    # The same every run (matching needs it): pinned, so a change of parameters is no silent re-key.
    assert stored == "scrypt:f77e877bb58a95215aa566bb0417aa307b1012913156e27e51752781e979821b"
    assert is_hashed(stored)


def test_each_guess_at_a_stored_hash_costs_a_slow_hash() -> None:
    # What a dictionary pays per word (a fresh value each time: nothing cached). A bare sha256 is
    # about a microsecond; scrypt at these parameters tens of milliseconds on a laptop.
    start = time.perf_counter()
    for word in ("guess-one", "guess-two", "guess-three"):
        assert SCRYPT.fullmatch(hashed(word + str(time.perf_counter_ns()), HEADER))
    assert (time.perf_counter() - start) / 3 > 0.005


def test_a_fresh_recording_replays_and_another_password_misses(tmp_path: Path) -> None:
    get(transport(tmp_path, "record"), PASSWORD)
    replay = transport(tmp_path, "replay")
    assert get(replay, PASSWORD).json() == {"ok": True}
    with pytest.raises(CassetteMiss):
        get(replay, PASSWORD + "x")
    assert replay.cassette.unused() == []
    assert SCRYPT.fullmatch(stored_header(tmp_path))


def legacy_file(path: Path, password: str) -> Path:
    """The file a version before the slow hash recorded: the header as its bare sha256, named by the key
    that gave (as that version named it)."""
    request = Request(method="GET", url=URL, headers={HEADER: "sha256:" + sha256_hex(password)})
    key = key_of(request, KeyOptions(match_headers=(HEADER,)))
    body: dict[str, Any] = {"request": {"method": "GET", "url": URL, "headers": request.headers}}
    body["responses"] = [{"status": 200, "headers": {"content-type": "application/json"}, "body": {"v": 1}}]
    body["meta"] = {"recorded_at": "2025-01-01T00:00:00+00:00"}
    path.mkdir(parents=True, exist_ok=True)
    file = path / file_name(key, request)
    file.write_text(json.dumps(body, indent=2))
    return file


def test_a_file_recorded_with_the_old_sha256_still_replays_and_re_recording_moves_it(tmp_path: Path) -> None:
    old = legacy_file(tmp_path, PASSWORD)
    replay = transport(tmp_path, "replay")
    assert get(replay, PASSWORD).json() == {"v": 1}
    assert get(replay, PASSWORD).json() == {"v": 1}  # a repeat too
    assert replay.cassette.unused() == []  # the old file counts as used: `prune` keeps it
    with pytest.raises(CassetteMiss):  # only the right password finds it
        get(transport(tmp_path, "replay"), "Winter" + "2024!")

    # Recording again writes the new form beside it; replay then takes the new file.
    get(transport(tmp_path, "record"), PASSWORD)
    [new] = [f for f in tmp_path.glob("*.json") if f != old]
    assert SCRYPT.fullmatch(json.loads(new.read_text())["request"]["headers"][HEADER])
    again = transport(tmp_path, "replay")
    assert get(again, PASSWORD).json() == {"ok": True}
    assert again.cassette.unused() == [old]


# -- llama-stack origin.rest ---------------------------------------------------------------------------


def test_a_llama_stack_header_kept_in_origin_rest_is_stored_slowly_hashed(tmp_path: Path) -> None:
    tenant = "Jd5" + "rT8yU3iO6pA1sD4f" * 2  # a random token under a name that says nothing
    data = {"id": "c1", "object": "chat.completion", "created": 0, "model": "m", "choices": []}
    raw = {
        "test_id": "tests/test_chat.py::test_hi",
        "request": {
            "method": "POST",
            "url": "http://localhost:8321/v1/v1/chat/completions",
            "headers": {"X-Tenant": tenant},
            "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            "endpoint": "/v1/chat/completions",
            "model": "m",
        },
        "response": {
            "body": {"__type__": "openai.types.chat.chat_completion.ChatCompletion", "__data__": data},
            "is_streaming": False,
        },
    }
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / ("a" * 64 + ".json")).write_text(json.dumps(raw))
    out, err = io.StringIO(), io.StringIO()
    status = cli_main(
        ["convert", str(tmp_path / "src"), str(tmp_path / "ours"), "--from", "llama-stack"],
        Console(out, err, fancy=False),
    )
    assert status == 0, err.getvalue()
    [file] = (tmp_path / "ours").glob("*.json")
    text = file.read_text()
    assert tenant not in text
    assert sha256_hex(tenant) not in text
    template = json.loads(text)["responses"][0]["origin"]["rest"]["template"]["request"]
    assert SCRYPT.fullmatch(template["headers"]["X-Tenant"])


# -- pytest test ids -----------------------------------------------------------------------------------


def test_a_credential_in_a_test_id_names_its_folder_by_the_slow_hash() -> None:
    folder = hidden(PASSWORD, {"password": PASSWORD})
    assert re.fullmatch(r"secret-[0-9a-f]{8}", folder)
    assert folder != "secret-" + sha256_hex(PASSWORD)[:8]  # the old name: 32 bits confirm a guess
    assert folder == "secret-" + hashed(PASSWORD, "test-id")[len("scrypt:") :][:8]
    assert folder == "secret-fe8a0b76"  # the same every run, in every process
    assert hidden(PASSWORD, {"password": PASSWORD}, legacy=True) == "secret-" + sha256_hex(PASSWORD)[:8]


SUITE = """
import os
import httpx
import pytest

@pytest.mark.parametrize(("user", "password"), [("alice", os.environ["FAKE_PASSWORD"])])
@pytest.mark.cassette
def test_login(api, user, password):
    assert httpx.get(f"{api}/models").json()["object"] == "list"
"""


def folders(root: Path) -> list[str]:
    return sorted({f.parent.name for f in root.rglob("*.json")})


def test_a_test_folder_named_before_is_still_replayed_and_a_new_one_gets_the_new_name(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PASSWORD", PASSWORD)
    inner.makepyfile(test_slow=SUITE)
    new = f"test_login-alice-{hidden(PASSWORD, {'password': PASSWORD})}"
    old = f"test_login-alice-secret-{sha256_hex(PASSWORD)[:8]}"
    assert new != old

    record = ("--cassette-mode=record", "--record-mode=all")
    replay = ("--cassette-mode=replay", "--record-mode=none")
    inner.runpytest_inprocess(*NATIVE, *record).assert_outcomes(passed=1)
    root = inner.path / "cassettes" / "test_slow"
    assert folders(root) == [new]
    inner.runpytest_inprocess(*NATIVE, *record).assert_outcomes(passed=1)
    assert folders(root) == [new]  # the same folder every run

    # A folder named by the old sha256 (recorded before): replay, offline, finds it and makes no other.
    shutil.move(root / new, root / old)
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    inner.runpytest_inprocess(*NATIVE, *replay).assert_outcomes(passed=1)
    assert sorted(p.name for p in root.iterdir()) == [old]


VCR_SUITE = """
import os
import httpx
import pytest

@pytest.mark.parametrize("password", [os.environ["FAKE_PASSWORD"]])
@pytest.mark.vcr
def test_vcr_login(api, password):
    assert httpx.get(f"{api}/models").json()["object"] == "list"
"""


def test_a_vcr_folder_named_before_is_still_replayed_and_never_pruned(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest-recording's name for the test (``test_vcr_login[secret-<8 hex>]``) as it was before ids
    were hashed slowly: replay finds it, and ``--cassette-prune`` does not take it for a gone test's."""
    monkeypatch.setenv("FAKE_PASSWORD", PASSWORD)
    inner.makepyfile(test_vcr_slow=VCR_SUITE)
    new = f"test_vcr_login[{hidden(PASSWORD, {'password': PASSWORD})}]"
    old = f"test_vcr_login[secret-{sha256_hex(PASSWORD)[:8]}]"
    inner.runpytest_inprocess(*NATIVE, "--record-mode=all").assert_outcomes(passed=1)
    root = inner.path / "cassettes" / "test_vcr_slow"
    assert folders(root) == [new]

    shutil.move(root / new, root / old)
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    deselected = inner.runpytest_inprocess(*NATIVE, "--record-mode=none", "--cassette-prune", "-k", "nothing")
    deselected.assert_outcomes()  # the test did not run: its folder is still claimed by its name
    assert sorted(p.name for p in root.iterdir()) == [old]
    inner.runpytest_inprocess(*NATIVE, "--record-mode=none", "--cassette-prune").assert_outcomes(passed=1)
    assert sorted(p.name for p in root.iterdir()) == [old]


def test_record_missing_replays_a_file_recorded_with_the_old_sha256(tmp_path: Path) -> None:
    """What exists is replayed, not recorded again at a cost, and counted as used under its own key."""
    calls: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json={"fresh": True})

    def transport(mode: str) -> CassetteTransport:
        return CassetteTransport(
            tmp_path, mode=mode, match_headers=["x-db-password"], inner=httpx.MockTransport(upstream)
        )

    with httpx.Client(transport=transport("record")) as client:
        client.get("https://api.example.com/v1/items", headers={"x-db-password": PASSWORD})
    [new] = tmp_path.glob("*.json")
    data = json.loads(new.read_text())  # as a release before slow hashes wrote it: the bare sha256
    data["request"]["headers"]["x-db-password"] = "sha256:" + sha256_hex(PASSWORD)
    data["responses"][0]["body"] = {"old": True}
    stored = Request(method="GET", url="https://api.example.com/v1/items", headers=data["request"]["headers"])
    old = tmp_path / file_name(key_of(stored, KeyOptions(match_headers=("x-db-password",))), stored)
    new.unlink()
    old.write_text(json.dumps(data))
    calls.clear()
    again = transport("record-missing")
    with httpx.Client(transport=again) as client:
        got = client.get("https://api.example.com/v1/items", headers={"x-db-password": PASSWORD}).json()
    assert got == {"old": True}
    assert calls == []
    assert list(tmp_path.glob("*.json")) == [old]
    assert again.cassette.unused() == []
