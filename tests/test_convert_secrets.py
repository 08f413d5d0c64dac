"""Converting other recorders' files keeps credentials off disk as recording does, and ``scan`` reads a
llama-stack file as replay serves it.

``convert --from vcr`` and ``convert --from llama-stack`` put every exchange through the cassette's
redaction (request, response, and what a llama-stack file keeps to be written back) and then its secret
check: a file that still holds a credential is refused in one line, exit status 1, nothing of it
written. ``scan`` applies a llama-stack file's ``id_normalization_mapping`` before judging it, as replay
does. Every fake credential is assembled at run time.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console

OPENAI = "sk-" + "proj-" + "Qm7vR2tL9wB4nC8yH3jF6kX1" * 2
AWS_TAIL = "QWERTYUIOPASDFGH"  # "AKIA" + this: an AWS access key id
ACCESS_TOKEN = "Zt4" + "kP9wQ2mX7vL3rB8n" * 2 + "Yc5"
PASSWORD = "correct horse " + "battery staple"
AZURE_KEY = "3f9a" + "c1d7e2b8" * 3 + "5a0d"
CUSTOM_AUTH = "Hx8" + "mN2qW7vK4tR9pL3z" * 2
TENANT = "Jd5" + "rT8yU3iO6pA1sD4f" * 2  # a random token under a name that says nothing


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def on_disk(root: Path) -> str:
    return "".join(p.read_text() for p in root.rglob("*") if p.is_file())


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- vcrpy -----------------------------------------------------------------------------------------


def vcr_yaml(*interactions: dict[str, Any]) -> str:
    yaml = pytest.importorskip("yaml")
    text: str = yaml.safe_dump({"interactions": list(interactions), "version": 1})
    return text


def login(password: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "uri": "https://auth.example.com/oauth/token",
            "body": json.dumps({"username": "ada", "password": password}),
            "headers": {"Content-Type": ["application/json"]},
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": json.dumps(answer)},
        },
    }


def test_convert_vcr_redacts_secret_fields_of_request_and_response_and_replays(tmp_path: Path) -> None:
    source = tmp_path / "test_login.yaml"
    source.write_text(vcr_yaml(login(PASSWORD, {"access_token": ACCESS_TOKEN, "token_type": "bearer"})))
    status, out, err = run("convert", str(source), str(tmp_path / "out"), "--from", "vcr")
    assert (status, err) == (0, "")
    assert out == f"wrote 1 file to {tmp_path / 'out'}\n"
    written = on_disk(tmp_path / "out")
    assert PASSWORD not in written
    assert ACCESS_TOKEN not in written
    [file] = files(tmp_path / "out")
    stored = json.loads(file.read_text())
    assert stored["request"]["body"] == {"username": "ada", "password": "REDACTED"}
    assert stored["responses"][0]["body"] == {"access_token": "REDACTED", "token_type": "bearer"}
    # Keyed redacted, as a recording is: the same request with another password finds it.
    replay = CassetteTransport(tmp_path / "out", mode="replay")
    with httpx.Client(transport=replay) as client:
        answer = client.post(
            "https://auth.example.com/oauth/token", json={"username": "ada", "password": "other"}
        )
    assert answer.json() == {"access_token": "REDACTED", "token_type": "bearer"}


def test_convert_vcr_groups_requests_by_their_redacted_key_in_cassette_order(tmp_path: Path) -> None:
    source = tmp_path / "test_login.yaml"
    source.write_text(
        vcr_yaml(login("first pass" + "word", {"n": 1}), login("second pass" + "word", {"n": 2}),
                 login("first pass" + "word", {"n": 3}))
    )  # fmt: skip
    assert run("convert", str(source), str(tmp_path / "out"), "--from", "vcr")[0] == 0
    [file] = files(tmp_path / "out")
    assert [r["body"] for r in json.loads(file.read_text())["responses"]] == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_convert_vcr_refuses_a_file_that_still_holds_a_credential(tmp_path: Path) -> None:
    source = tmp_path / "test_login.yaml"
    source.write_text(vcr_yaml(login(PASSWORD, {"note": f"legacy key {OPENAI}"})))
    status, out, err = run("convert", str(source), str(tmp_path / "out"), "--from", "vcr")
    assert (status, out) == (1, "")  # as for a broken file
    assert err.count("\n") == 1  # one line
    assert err.startswith(f"httpx-cassette convert: refusing to convert {source}: the recording of POST")
    assert "$.responses[0].body.note: OpenAI API key sk-pro…(" in err
    assert OPENAI not in err
    assert PASSWORD not in err
    assert files(tmp_path / "out") == []  # nothing written


def test_convert_vcr_writes_nothing_of_a_refused_file_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "test_a.yaml").write_text(vcr_yaml(login(PASSWORD, {"ok": True})))
    (tmp_path / "src" / "test_b.yaml").write_text(
        vcr_yaml(login(PASSWORD, {"ok": True}), login("x", {"note": f"key {OPENAI}"}))
    )
    status, _, err = run("convert", str(tmp_path / "src"), str(tmp_path / "dst"), "--from", "vcr")
    assert status == 1
    assert f"refusing to convert {tmp_path / 'src' / 'test_b.yaml'}:" in err
    assert [p.parent.name for p in files(tmp_path / "dst")] == ["test_a"]  # nothing under test_b
    assert OPENAI not in on_disk(tmp_path / "dst")


def test_convert_vcr_refusal_never_prints_a_token_in_the_url(tmp_path: Path) -> None:
    token = "a1b2c3d4e5f6" * 4  # 48 hex characters in a path segment: refused, never redacted
    interaction = login(PASSWORD, {"ok": True})
    interaction["request"]["uri"] = f"https://api.example.com/hooks/{token}/send"
    (tmp_path / "test_hook.yaml").write_text(vcr_yaml(interaction))
    status, _, err = run("convert", str(tmp_path / "test_hook.yaml"), str(tmp_path / "out"), "--from", "vcr")
    assert status == 1
    assert "the recording of a POST request holds what looks like a credential" in err
    assert "$.request.url: " in err
    assert token not in err
    assert files(tmp_path / "out") == []


def test_convert_vcr_allow_lets_a_value_that_is_no_secret_through(tmp_path: Path) -> None:
    source = tmp_path / "test_login.yaml"
    source.write_text(vcr_yaml(login(PASSWORD, {"note": f"example key {OPENAI}"})))
    destination = str(tmp_path / "out")
    assert run("convert", str(source), destination, "--from", "vcr", "--allow", OPENAI)[0] == 0
    assert OPENAI in on_disk(tmp_path / "out")
    assert PASSWORD not in on_disk(tmp_path / "out")
    again = str(tmp_path / "again")
    assert run("convert", str(source), again, "--from", "vcr", "--allow-pattern", r"sk-proj-\w+")[0] == 0


def test_convert_vcr_keeps_the_coding_of_a_body_it_cannot_decode(tmp_path: Path) -> None:
    interaction = login(PASSWORD, {})
    interaction["response"]["headers"] = {"Content-Encoding": ["x-unknown"], "Set-Cookie": ["s=1"]}
    interaction["response"]["body"] = {"string": "opaque bytes"}
    (tmp_path / "test_login.yaml").write_text(vcr_yaml(interaction))
    assert run("convert", str(tmp_path / "test_login.yaml"), str(tmp_path / "out"), "--from", "vcr")[0] == 0
    [file] = files(tmp_path / "out")
    assert json.loads(file.read_text())["responses"][0]["headers"] == {"content-encoding": "x-unknown"}


def test_convert_vcr_through_python_m(tmp_path: Path) -> None:
    source = tmp_path / "test_login.yaml"
    source.write_text(vcr_yaml(login(PASSWORD, {"access_token": ACCESS_TOKEN, "note": f"key {OPENAI}"})))
    command = [sys.executable, "-m", "httpx_cassette", "convert", str(source), str(tmp_path / "out")]
    done = subprocess.run([*command, "--from", "vcr"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith(f"httpx-cassette convert: refusing to convert {source}:")
    assert OPENAI not in done.stderr
    assert ACCESS_TOKEN not in done.stderr
    assert files(tmp_path / "out") == []


# -- llama-stack -----------------------------------------------------------------------------------


def recording(data: dict[str, Any], mapping: dict[str, str] | None = None, **request: Any) -> dict[str, Any]:
    """A llama-stack recording of a chat completion whose object holds ``data``; ``request``: fields of
    its stored request."""
    stored = {
        "method": "POST",
        "url": "http://localhost:8321/v1/v1/chat/completions",
        "headers": {},
        "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "endpoint": "/v1/chat/completions",
        "model": "m",
        **request,
    }
    data = {"id": "c1", "object": "chat.completion", "created": 0, "model": "m", "choices": [], **data}
    answer = {"body": {"__type__": "openai.types.chat.chat_completion.ChatCompletion", "__data__": data}}
    found = {
        "test_id": "tests/test_chat.py::test_hi",
        "request": stored,
        "response": {**answer, "is_streaming": False},
    }
    if mapping is not None:
        found["id_normalization_mapping"] = mapping
    return found


def write_recording(folder: Path, name: str, value: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(value, indent=2))
    return folder / name


def test_convert_llama_stack_redacts_url_body_response_and_what_it_keeps(tmp_path: Path) -> None:
    azure = "https://r.openai.azure.com/openai/deployments/d/chat/completions"
    raw = recording(
        {"access_token": ACCESS_TOKEN},
        url=f"{azure}?api-version=2024-02-01&api-key={AZURE_KEY}",
        headers={"X-Custom-Auth": CUSTOM_AUTH, "X-Tenant": TENANT},
        body={"model": "m", "messages": [{"role": "user", "content": "hi"}], "db_password": PASSWORD},
    )
    write_recording(tmp_path / "src", "a" * 64 + ".json", raw)
    status, _, err = run("convert", str(tmp_path / "src"), str(tmp_path / "ours"), "--from", "llama-stack")
    assert (status, err) == (0, "")
    secrets = (AZURE_KEY, PASSWORD, ACCESS_TOKEN, CUSTOM_AUTH, TENANT)
    written = on_disk(tmp_path / "ours")
    assert all(secret not in written for secret in secrets)
    [file] = files(tmp_path / "ours")
    stored = json.loads(file.read_text())
    assert stored["request"]["url"].endswith("?api-version=2024-02-01&api-key=REDACTED")
    assert stored["request"]["body"]["db_password"] == "REDACTED"
    assert stored["responses"][0]["body"]["access_token"] == "REDACTED"
    origin = stored["responses"][0]["origin"]
    assert origin["url"] == f"{azure}?api-version=2024-02-01&api-key=REDACTED"
    template = origin["rest"]["template"]["request"]
    assert template["url"] == origin["url"]
    assert template["body"]["db_password"] == "REDACTED"
    assert template["headers"]["X-Custom-Auth"] == "REDACTED"  # a secret name
    assert template["headers"]["X-Tenant"].startswith("scrypt:")  # a random token: as a kept header is
    assert run("scan", str(tmp_path / "ours"))[0] == 0
    # Back to llama-stack's format: nothing comes back.
    assert run("convert", str(tmp_path / "ours"), str(tmp_path / "back"), "--to", "llama-stack")[0] == 0
    back = on_disk(tmp_path / "back")
    assert all(secret not in back for secret in secrets)
    # Keyed redacted: a request with another key and password finds it.
    replay = CassetteTransport(tmp_path / "ours", mode="replay")
    with httpx.Client(transport=replay) as client:
        answer = client.post(
            "https://r.openai.azure.com/v1/chat/completions?api-version=2024-02-01&api-key=other",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "db_password": "other"},
        )
    assert answer.json()["access_token"] == "REDACTED"


def test_convert_llama_stack_refuses_a_file_that_still_holds_a_credential(tmp_path: Path) -> None:
    clean = write_recording(tmp_path / "src", "a" * 64 + ".json", recording({}))
    leaky = recording(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": f"use {OPENAI}"}}]}
    )
    leaky["request"]["body"]["messages"][0]["content"] = "another question"
    source = write_recording(tmp_path / "src", "b" * 64 + ".json", leaky)
    status, out, err = run("convert", str(tmp_path / "src"), str(tmp_path / "ours"), "--from", "llama-stack")
    assert (status, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith(f"httpx-cassette convert: refusing to convert {source}: the recording of POST")
    assert "OpenAI API key sk-pro…(" in err
    assert OPENAI not in err
    assert files(tmp_path / "ours") == []  # nothing at all: every file is checked before any is written
    assert clean.exists()


def test_convert_llama_stack_refuses_a_credential_the_mapping_assembles(tmp_path: Path) -> None:
    raw = recording({"note": "rotate AKIAzz9zz today"}, mapping={AWS_TAIL: "zz9zz"})
    source = write_recording(tmp_path / "src", "c" * 64 + ".json", raw)
    status, _, err = run("convert", str(tmp_path / "src"), str(tmp_path / "ours"), "--from", "llama-stack")
    assert status == 1
    assert f"refusing to convert {source}:" in err
    assert "AWS access key id AKIAQ…(20 chars)" in err
    assert files(tmp_path / "ours") == []


# -- scan ------------------------------------------------------------------------------------------


def test_scan_reads_a_llama_stack_file_as_replay_serves_it(tmp_path: Path) -> None:
    raw = recording({"note": "rotate AKIAzz9zz today"}, mapping={AWS_TAIL: "zz9zz"})
    file = write_recording(tmp_path / "cas", "abc123.json", raw)
    replay = CassetteTransport(tmp_path / "cas", mode="replay")
    with httpx.Client(transport=replay) as client:
        served = client.post(
            "http://localhost:8321/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert "AKIA" + AWS_TAIL in served.text  # what replay serves...
    status, out, err = run("scan", str(tmp_path / "cas"))
    assert (status, out) == (1, "1 possible secret found\n")  # ...is what scan judges
    assert err.startswith(
        f"{file}: $.responses[0].body.note (as replayed): AWS access key id AKIAQ…(20 chars)"
    )


def test_scan_reports_a_secret_in_a_llama_stack_file_once(tmp_path: Path) -> None:
    write_recording(tmp_path / "cas", "abc123.json", recording({"note": f"rotate AKIA{AWS_TAIL} today"}))
    status, out, err = run("scan", str(tmp_path / "cas"))
    assert (status, out) == (1, "1 possible secret found\n")
    assert "$.response.body.__data__.note" in err
    assert "(as replayed)" not in err


def test_scan_finds_nothing_in_a_clean_llama_stack_file_with_a_mapping(tmp_path: Path) -> None:
    raw = recording({"id": "rec-1"}, mapping={"chatcmpl-9Xy": "rec-1"})
    write_recording(tmp_path / "cas", "abc123.json", raw)
    assert run("scan", str(tmp_path / "cas")) == (0, f"no secrets found under {tmp_path / 'cas'}\n", "")
