"""Round 8 of the hostile-cassette hunt: one path guard for every file, one listing for every reader.

- a converted vcrpy cassette is written strictly inside the destination (``...yaml`` is no ``..``), and
  only when replay would read it back (`check_file`, the check every load runs);
- the usage report is written as cassette files are: atomically, never through a committed link;
- dot-files are replayed, so ``verify``, ``ls``, ``diff`` and ``prune`` see them too;
- a ``body_file`` is one of its own file's side files, refused at load otherwise (so ``scan``, which
  reads every side file, reads every body replay can serve);
- no name read from a file may hold a Windows drive or stream (``D:.env``);
- a file of ours is ours, whatever its ``origin`` says: the duplicate-request refusal holds.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteFormatError, CassetteTransport, KeyOptions
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.cli.prune import Evidence, prune
from httpx_cassette.core.key import key_of
from httpx_cassette.errors import CassetteError
from httpx_cassette.formats.llamastack import convert_directory
from httpx_cassette.model.cassette import Request
from httpx_cassette.storage.files import UnsafeFileError, file_name, name_problem, open_inside, path_inside
from httpx_cassette.storage.report import UsageReport, read_usage_report, write_usage_report
from httpx_cassette.storage.store import DirectoryStore
from tests.security.hostile import NAME, REQUEST, SIDE, URL, llama, ours, put

GET_URL = "https://api.example.com/v1/answer"


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def everything_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# -- 01 and 18: convert --from vcr -----------------------------------------------------------------

INTERACTION = """- request:
    {{method: GET, uri: 'https://api.example.com/v1/{path}', body: null, headers: {{}}}}
  response:
    status: {{code: {status}, message: OK}}
    headers: {{content-type: [application/json]{extra}}}
    body: {{string: '{{"ok": true}}'}}
"""


def vcr_yaml(*interactions: str) -> str:
    return "interactions:\n" + "".join(interactions) + "version: 1\n"


def interaction(path: str = "x", status: int = 200, extra: str = "") -> str:
    return INTERACTION.format(path=path, status=status, extra=extra)


@pytest.mark.parametrize("name", ["...yaml", "..yml", "sub/...yaml"])
def test_convert_vcr_never_writes_outside_the_destination(tmp_path: Path, name: str) -> None:
    pytest.importorskip("yaml")
    source, destination = tmp_path / "vcr", tmp_path / "out" / "cassettes"
    (source / name).parent.mkdir(parents=True)
    (source / name).write_text(vcr_yaml(interaction("escaped")))
    (source / "a_fine.yaml").write_text(vcr_yaml(interaction("fine")))  # written only if all are inside
    status, _, err = cli("convert", source, destination, "--from", "vcr")
    assert status != 0
    assert str(source / name) in err, err
    assert "rename the YAML file" in err, err
    assert everything_under(tmp_path / "out") == ["cassettes"] or not (tmp_path / "out").exists()


def test_path_inside_refuses_what_is_no_plain_name_or_resolves_elsewhere(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "linked").parent.mkdir(parents=True)
    (base / "linked").symlink_to(tmp_path)
    assert path_inside(base, Path("a/b"), "x.yaml") == base / "a" / "b"
    for relative in (Path(".."), Path("."), Path(""), Path("a/../.."), Path("D:x"), Path("linked/x")):
        with pytest.raises(UnsafeFileError, match=r"x\.yaml"):
            path_inside(base, relative, "x.yaml")


@pytest.mark.parametrize(
    ("status", "extra", "said"),
    [
        (999, "", "status 999 is not an HTTP status"),
        (200, ', x-a: ["a\\r\\nset-cookie: injected=1"]', "line break"),
    ],
)
def test_convert_vcr_writes_nothing_replay_would_refuse(
    tmp_path: Path, status: int, extra: str, said: str
) -> None:
    pytest.importorskip("yaml")
    # a good interaction first: nothing of a refused file is written
    (tmp_path / "c.yaml").write_text(vcr_yaml(interaction("good"), interaction("bad", status, extra)))
    out = tmp_path / "out"
    status_code, _, err = cli("convert", tmp_path / "c.yaml", out, "--from", "vcr")
    assert status_code == 1
    assert str(tmp_path / "c.yaml") in err, err
    assert said in err, err
    assert "Nothing of this file was written" in err, err
    assert not out.exists() or not list(out.rglob("*.json"))


# -- 05: the usage report --------------------------------------------------------------------------


def test_the_usage_report_is_never_written_through_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("export IMPORTANT=1\n")
    project = tmp_path / "project"
    (project / "real").mkdir(parents=True)
    monkeypatch.chdir(project)
    (project / "usage.json").symlink_to(victim)
    (project / "reports").symlink_to(tmp_path)  # a linked folder on the way
    report = UsageReport(used=["a.json"])
    for path in (Path("usage.json"), Path("reports/victim"), project / "usage.json"):
        with pytest.raises(CassetteError, match="symbolic link"):
            write_usage_report(path, report)
    assert victim.read_text() == "export IMPORTANT=1\n"
    write_usage_report(Path("real/usage.json"), report)  # a plain path is written, atomically
    write_usage_report(Path("real/usage.json"), report)
    assert read_usage_report(project / "real" / "usage.json").used == ["a.json"]
    assert sorted(os.listdir(project / "real")) == ["usage.json"]  # no temporary left


# -- 02: dot-files are read by every reader ----------------------------------------------------------


def get_file(url: str, answer: str) -> dict[str, Any]:
    return {
        "version": 1,
        "request": {"method": "GET", "url": url},
        "responses": [
            {"status": 200, "headers": {"content-type": "application/json"}, "body": {"a": answer}}
        ],
    }


def named(directory: Path, url: str) -> Path:
    request = Request(method="GET", url=url)
    return directory / file_name(key_of(request), request)


def test_dot_files_are_seen_by_verify_ls_diff_and_prune_as_by_replay(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    genuine = named(old, GET_URL)
    genuine.write_text(json.dumps(get_file(GET_URL, "genuine")))
    new.mkdir()
    (new / genuine.name).write_text(genuine.read_text())
    other = named(new, "https://api.example.com/v1/b")
    hidden_other = new / f".{other.name}"
    hidden_other.write_text(json.dumps(get_file("https://api.example.com/v1/b", "hidden")))
    with httpx.Client(transport=CassetteTransport(new, mode="replay")) as client:
        assert client.get("https://api.example.com/v1/b").json() == {"a": "hidden"}  # replay reads it
    status, out, _ = cli("ls", new)
    assert status == 0
    assert hidden_other.name in out, out
    status, out, _ = cli("diff", old, new)
    assert status == 1
    assert f"added   {hidden_other}" in out, out
    (new / f".{genuine.name}").write_text(json.dumps(get_file(GET_URL, "evil")))  # a hidden copy
    with pytest.raises(CassetteFormatError, match="same request"):
        DirectoryStore(new, KeyOptions()).read_all()  # what a miss or the usage report does first
    status, _, err = cli("verify", new)
    assert status == 1
    assert f"{new / genuine.name}: holds the same request as {new / ('.' + genuine.name)}" in err, err
    # prune deletes what no test used, dot-files included (it lists what replay reads)
    evidence = Evidence(
        used={Path(os.path.realpath(new / genuine.name))}, opened={Path(os.path.realpath(new))}
    )
    unused = prune(new, evidence, dry_run=True).deleted
    assert sorted(p.name for p in unused) == sorted([f".{genuine.name}", hidden_other.name])
    # only the temporary files of an unfinished write are listed by no reader; verify reports them
    (new / f".{genuine.name}").unlink()
    (new / f".{genuine.name}.k2j4x.tmp").write_text("{half")
    status, out, _ = cli("ls", new)
    assert status == 0
    assert ".tmp" not in out
    status, _, err = cli("verify", new)
    assert status == 1
    assert "a write that did not finish" in err, err


# -- 03: body_file is one of its own file's side files ----------------------------------------------

SECRET = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ"


@pytest.mark.parametrize("name", ["notes.txt", ".env", "body.dat", "other-000000000000.0.bin", "x.0.bin"])
def test_a_body_file_that_is_no_side_file_of_its_own_is_refused_by_every_reader(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).write_bytes(SECRET.encode())
    response = {"status": 200, "headers": {"content-type": "application/octet-stream"}}
    put(tmp_path, ours({**response, "body_file": name}))
    replay = CassetteTransport(tmp_path, mode="replay")
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteFormatError, match=NAME) as raised:
        client.post(URL, json={"q": 1})
    assert "is not one of its side files" in str(raised.value)
    assert SECRET not in str(raised.value)
    status, _, err = cli("verify", tmp_path)
    assert status == 1
    assert f"{NAME}: responses[0].body_file" in err, err
    assert "is not one of its side files" in err, err
    out = tmp_path.parent / f"{tmp_path.name}-out"
    with pytest.raises(CassetteFormatError, match="is not one of its side files"):
        convert_directory(tmp_path, out, to="llama-stack")
    assert not out.exists() or not list(out.iterdir())
    (tmp_path / name).rename(tmp_path / SIDE)  # as its own side file, it replays
    put(tmp_path, ours({**response, "body_file": SIDE}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.post(URL, json={"q": 1}).text == SECRET
    assert cli("verify", tmp_path)[0] == 0


# -- 17: Windows drives and streams -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["D:.env", "d:x.0.bin", "C:", "a.json:stream", "x.0.bin:$DATA"])
def test_a_name_with_a_drive_or_a_stream_is_no_plain_name(tmp_path: Path, name: str) -> None:
    assert name_problem(name) is not None
    with pytest.raises(UnsafeFileError, match="colon"):
        open_inside(tmp_path, name)
    put(tmp_path, ours({"status": 200, "body_file": name}))
    replay = CassetteTransport(tmp_path, mode="replay")
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteFormatError, match="colon"):
        client.post(URL, json={"q": 1})


# -- 11: a file's format is its shape, not its claim ------------------------------------------------


def test_a_copy_of_ours_claiming_to_be_llama_stack_is_still_a_duplicate(tmp_path: Path) -> None:
    put(tmp_path, ours({"status": 200, "body": {"a": "genuine"}}))
    claim = {"format": "llama-stack", "file": "a-copy.json"}
    put(tmp_path, ours({"status": 200, "body": {"a": "evil"}, "origin": claim}), "a-copy.json")
    status, _, err = cli("verify", tmp_path)
    assert status == 1
    assert "holds the same request" in err, err
    store = DirectoryStore(tmp_path, KeyOptions())
    with pytest.raises(CassetteFormatError, match="same request"):
        store.read_all()
    # a file llama-stack's format holds (by its shape) beside one of ours is refused just the same (this
    # tool never writes such a pair; one added beside a reviewed file would be served first) ...
    (tmp_path / "a-copy.json").unlink()
    put(tmp_path, llama(), "0123abcd.json")
    assert cli("verify", tmp_path)[0] == 1
    with pytest.raises(CassetteFormatError, match="same request"):
        DirectoryStore(tmp_path, KeyOptions()).read_all()
    # ... while llama-stack's own files for one request merge (it keeps one response per file)
    (tmp_path / NAME).unlink()
    put(tmp_path, llama(), "0123abcd.1.json")
    store = DirectoryStore(tmp_path, KeyOptions())
    store.read_all()
    found = store.get(key_of(REQUEST))
    assert found is not None
    assert len(found.responses) == 2
    assert cli("verify", tmp_path)[0] == 0
