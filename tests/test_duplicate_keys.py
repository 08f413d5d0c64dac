"""Two files claiming one request, or one file name: never one of them picked or lost silently.

Cassette folders arrive in pull requests. A copy of a file added next to it (under a name that sorts
first) must not decide what replays unseen: replay refuses the folder naming both files, ``verify``
reports it, ``diff`` lists the copy. Converting to llama-stack names files after the recordings they
were read from (``origin.file``, any name the source says): two requests claiming one name both keep
their recording.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.core.key import key_of
from httpx_cassette.storage.codec import decode_file
from httpx_cassette.storage.files import file_name

API = "https://api.example.com"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def cassette(path: str, answer: str, **response: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "request": {"method": "GET", "url": API + path, "headers": {}},
        "responses": [
            {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "body": {"answer": answer},
                **response,
            }
        ],
    }


def own_name(data: dict[str, Any]) -> str:
    """The name recording gives ``data``'s file."""
    request = decode_file(json.dumps(data).encode(), "x").request
    return file_name(key_of(request), request)


def put(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / (name or own_name(data))
    file.write_text(json.dumps(data, indent=2))
    return file


def answers(folder: Path, *paths: str) -> list[str]:
    with httpx.Client(transport=CassetteTransport(folder, mode="replay"), base_url=API) as client:
        return [client.get(path).json()["answer"] for path in paths]


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A cassette, and its copy where one file is renamed and a twin of another added (sorting first)."""
    old, new = tmp_path / "old", tmp_path / "new"
    put(old, cassette("/v1/one", "one"))
    genuine = cassette("/v1/two", "genuine")
    put(old, genuine)
    shutil.copytree(old, new)
    renamed = own_name(cassette("/v1/one", "one"))
    (new / renamed).rename(new / f"get-renamed-{renamed[-17:]}")
    twin = put(new, cassette("/v1/two", "EVIL"), f"a-{own_name(genuine)[-17:]}")
    return old, new, twin


def test_diff_lists_a_file_holding_the_same_request_as_another(pull_request: tuple[Path, Path, Path]) -> None:
    old, new, twin = pull_request
    status, out, _ = run("diff", str(old), str(new))
    assert status == 1
    assert out == f"added   {twin}\n0 changed, 1 added, 0 removed, 2 unchanged\n"
    status, out, _ = run("diff", str(new), str(old))
    assert (status, out) == (1, f"removed {twin}\n0 changed, 0 added, 1 removed, 2 unchanged\n")


def test_diff_compares_the_same_request_in_two_folders_each(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in ("a", "b"):
        put(old / folder, cassette("/v1/two", "same"))
    shutil.copytree(old, new)
    edited = put(new / "a", cassette("/v1/two", "changed"))
    status, out, _ = run("diff", str(old), str(new))
    assert status == 1
    assert f"changed {edited}\n" in out
    assert out.endswith("1 changed, 0 added, 0 removed, 1 unchanged\n")


def test_verify_names_both_files_holding_one_request(pull_request: tuple[Path, Path, Path]) -> None:
    old, new, twin = pull_request
    assert run("verify", str(old))[0] == 0
    status, out, err = run("verify", str(new))
    assert status == 1
    genuine = new / own_name(cassette("/v1/two", "genuine"))
    assert err == f"{genuine}: holds the same request as {twin}: replay refuses both, keep one\n"
    assert out == "3 files, 0 streams checked: 1 problem in 1 file\n"


def test_replay_refuses_two_files_of_one_request_naming_both(pull_request: tuple[Path, Path, Path]) -> None:
    old, new, twin = pull_request
    assert answers(old, "/v1/one", "/v1/two") == ["one", "genuine"]
    genuine = new / own_name(cassette("/v1/two", "genuine"))
    # The renamed file is found by listing the folder; from then on, every file of a request is read.
    with pytest.raises(CassetteError, match="holds the same request as") as refused:
        answers(new, "/v1/one", "/v1/two")
    assert str(twin) in str(refused.value)
    assert str(genuine) in str(refused.value)


def test_a_twin_under_any_name_is_refused_once_the_folder_is_read(tmp_path: Path) -> None:
    put(tmp_path, cassette("/v1/two", "genuine"))
    put(tmp_path, cassette("/v1/two", "EVIL"), "zzz.json")
    with pytest.raises(CassetteError, match=r"zzz\.json"):
        answers(tmp_path, "/v1/unrecorded")  # a miss reads every file
    assert run("verify", str(tmp_path))[0] == 1


def llama_origin(path: str, answer: str, name: str, test_id: str | None = None) -> dict[str, Any]:
    data = cassette(path, answer, origin={"format": "llama-stack", "file": name})
    data["request"].update(method="POST", headers={"content-type": "application/json"}, body={"q": answer})
    if test_id is not None:
        data["responses"][0]["test_id"] = test_id
    return data


def posted(folder: Path, *words: str) -> list[str]:
    with httpx.Client(transport=CassetteTransport(folder, mode="replay"), base_url=API) as client:
        return [client.post("/v1/chat/completions", json={"q": w}).json()["answer"] for w in words]


def test_convert_to_llama_stack_keeps_both_requests_claiming_one_file_name(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    for word in ("alpha", "beta"):
        put(src, llama_origin("/v1/chat/completions", word, "same.json"))
    status, out, _ = run("convert", str(src), str(dst), "--to", "llama-stack")
    files = sorted(p.name for p in dst.iterdir())
    assert (status, out) == (0, f"wrote 2 files to {dst}\n")
    assert len(files) == 2
    assert "same.json" in files
    assert posted(dst, "alpha", "beta") == ["alpha", "beta"]


def test_convert_to_llama_stack_keeps_two_tests_claiming_one_file_name(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    data = llama_origin("/v1/chat/completions", "alpha", "same.json", test_id="test_a")
    second = llama_origin("/v1/chat/completions", "alpha", "same.json", test_id="test_b")["responses"][0]
    second["body"] = {"answer": "alpha again"}
    data["responses"].append(second)
    put(src, data)
    status, out, _ = run("convert", str(src), str(dst), "--to", "llama-stack")
    assert (status, out) == (0, f"wrote 2 files to {dst}\n")
    assert len(list(dst.iterdir())) == 2
    assert sorted(posted(dst, "alpha", "alpha")) == ["alpha", "alpha again"]  # in file-name order


def test_convert_refuses_to_overwrite_a_recording_already_in_the_target(tmp_path: Path) -> None:
    first, second, dst = tmp_path / "first", tmp_path / "second", tmp_path / "dst"
    put(first, llama_origin("/v1/chat/completions", "alpha", "same.json"))
    put(second, llama_origin("/v1/chat/completions", "beta", "same.json"))
    assert run("convert", str(first), str(dst), "--to", "llama-stack")[0] == 0
    before = (dst / "same.json").read_bytes()
    status, _, err = run("convert", str(second), str(dst), "--to", "llama-stack")
    assert status != 0
    assert err.count("\n") == 1
    assert "same.json" in err
    assert (dst / "same.json").read_bytes() == before
