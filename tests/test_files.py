"""Unit tests of `httpx_cassette.storage.files`: the one listing of cassette files and the one spelling
of side-file names, which the store, sessions, ``scan``, ``verify``, ``diff`` and ``prune`` all use."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteTransport
from httpx_cassette.errors import CassetteError
from httpx_cassette.model.cassette import Request
from httpx_cassette.storage.files import (
    cassette_files,
    file_name,
    files_at,
    is_safe_name,
    is_side_file,
    key_prefix,
    side_files,
    side_name,
    write_atomic,
)

KEY = "0123456789abcdef" * 4


def touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")


def names(root: Path, files: list[Path]) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


def test_a_directory_lists_its_json_files_sorted_and_with_bodies_their_side_files(tmp_path: Path) -> None:
    touch(tmp_path, "b.json", "a.json", "a.0.bin", ".a.json.x1.tmp", "notes.txt", "sub/c.json")
    assert names(tmp_path, cassette_files(tmp_path)) == ["a.json", "b.json"]
    assert names(tmp_path, cassette_files(tmp_path, bodies=True)) == ["a.0.bin", "a.json", "b.json"]


def test_recursive_listing_holds_dot_files_as_replay_reads_them(tmp_path: Path) -> None:
    touch(tmp_path, "a.json", "sub/deeper/c.json", ".hidden.json", ".git/d.json", "sub/.e.json")
    touch(tmp_path, ".a.json.k2j4.tmp", "sub/.c.json.x1.tmp")  # write temporaries: never listed
    every = [".git/d.json", ".hidden.json", "a.json", "sub/.e.json", "sub/deeper/c.json"]
    assert names(tmp_path, cassette_files(tmp_path, recursive=True)) == every
    assert names(tmp_path, files_at(tmp_path)) == every


def test_what_is_not_a_directory_lists_nothing_and_a_file_is_itself_for_commands(tmp_path: Path) -> None:
    touch(tmp_path, "a.json")
    assert cassette_files(tmp_path / "missing") == []
    assert cassette_files(tmp_path / "a.json") == []
    assert files_at(tmp_path / "a.json") == [tmp_path / "a.json"]
    assert files_at(tmp_path) == [tmp_path / "a.json"]


def test_side_files_are_stem_dot_index_dot_bin(tmp_path: Path) -> None:
    cassette = tmp_path / "post-x-0123456789ab.json"
    assert side_name(cassette, 3) == "post-x-0123456789ab.3.bin"
    assert is_side_file("post-x-0123456789ab.12.bin", cassette)
    for other in ("post-x-0123456789ab.a.bin", "post-x-0123456789abc.0.bin", "post-x-0123456789ab.0.bin.tmp"):
        assert not is_side_file(other, cassette), other
    touch(
        tmp_path, cassette.name, side_name(cassette, 0), side_name(cassette, 2), "post-x-0123456789ab.z.bin"
    )
    assert [p.name for p in side_files(cassette)] == [side_name(cassette, 0), side_name(cassette, 2)]


def test_generated_names_carry_their_key_and_are_safe() -> None:
    name = file_name(KEY, Request(method="POST", url="https://api.example/v1/chat/completions"))
    assert name == "post-chat-completions-0123456789ab.json"
    assert key_prefix(name) == KEY[:12]
    assert key_prefix("2d44f504f1ec.json") is None  # another recorder's file
    assert is_safe_name(KEY, name)
    assert not is_safe_name("not-a-key", name)
    assert not is_safe_name(KEY, "con.json")  # a Windows device name, whatever the extension
    assert not is_safe_name(KEY, "../escape-0123456789ab.json")


def test_a_replaced_file_is_synced_before_the_rename_and_a_new_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash must never leave an empty file where a good one was; a new file has nothing to lose, and
    its fsync (most of a recording's write) would buy nothing the unsynced rename keeps."""
    steps: list[str] = []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (steps.append("fsync"), fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (steps.append("rename"), replace(a, b))[1])
    file = tmp_path / "a.json"
    write_atomic(file, b"first")
    assert steps == ["rename"]
    assert file.read_bytes() == b"first"
    steps.clear()
    write_atomic(file, b"second")
    assert steps == ["fsync", "rename"]
    assert file.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left


def test_a_failed_write_closes_its_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever fails once the temporary file is made (here: reading what it replaces), its descriptor is
    closed and the file removed: a recorder writing all day must not run out of descriptors."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("counts open descriptors in /proc")
    file = tmp_path / "a.json"
    file.write_bytes(b"old")

    def lstat(path: object) -> os.stat_result:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os.path, "lexists", lambda path: True)  # it was there, and is gone when read
    monkeypatch.setattr(os, "lstat", lstat)
    before = len(list(Path("/proc/self/fd").iterdir()))
    for _ in range(20):
        with pytest.raises(CassetteError):
            write_atomic(file, b"new")
    assert len(list(Path("/proc/self/fd").iterdir())) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_side_file_is_synced_before_the_json_that_points_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new recording's own file skips the sync, but a large body's side file never does: after a crash
    the JSON must not point to an empty file, which would replay as an empty body."""
    steps: list[str] = []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (steps.append("fsync"), fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (steps.append(f"rename {Path(b).suffix}"), replace(a, b))[1]
    )
    body = bytes(range(256)) * 400
    inner = httpx.MockTransport(
        lambda _: httpx.Response(200, headers={"content-type": "application/octet-stream"}, content=body)
    )
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=inner)) as client:
        client.get("https://example.com/blob")
    assert steps == ["fsync", "rename .bin", "rename .json"]


def test_a_response_too_large_to_load_back_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # Loading reads at most a million JSON objects and arrays (brackets in text count): recording one
    # it could not load back would leave a cassette that fails every replay and `scan`
    page = "[" * 1_000_001
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, text=page))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(CassetteError, match="could not be replayed"),
    ):
        client.get("https://api.test/v1/x").read()
    assert list(tmp_path.iterdir()) == []
