"""Bodies that are archives or compressed files no content-encoding names (a zip, a .bz2, a .xz, a
.tar.gz of .gz files: a file download, a GitHub zipball) are read as whoever saves and opens them reads
them: each file inside, each compressed file inside one layer further in. A credential in any of them is
refused at recording and flagged by ``scan``, as the same bytes gzip'd are; an archive that cannot be read
(an encrypted member, a damaged directory, past a bound, too many files) is not checked, never clean.

Files are written as raw JSON into ``tmp_path``, as a pull request brings them. Every fake credential is
assembled at run time.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import random
import string
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.core import archives
from httpx_cassette.core import scan as scan_module
from httpx_cassette.storage.scan import scan_directory

URL = "https://api.example.com/v1/files/file-1/content"
STEM = "get-content-000000000000"


def fake_key(seed: int = 0) -> str:
    rng = random.Random(seed)
    return "sk-" + "proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(48))


KEY = fake_key()
ENV = f"# settings\nOPENAI_API_KEY={KEY}\n".encode() + b"DEBUG=false\n" * 20
CLEAN = [
    ("project/package.json", json.dumps({"name": "demo", "version": "1.0.0"}).encode()),
    ("project/README.md", b"# demo\n\nSee https://example.com/docs for more.\n"),
    ("project/src/app.txt", b"hello world\n" * 50),
]


def zipped(files: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def tarred(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def encrypted(zip_bytes: bytes) -> bytes:
    """``zip_bytes`` with its one member marked encrypted (general purpose flag bit 0) in both headers,
    as a password-protected zip is: no reader opens it without the password."""
    data = bytearray(zip_bytes)
    data[6] |= 1
    data[data.rfind(b"PK\x01\x02") + 8] |= 1
    return bytes(data)


def with_method(zip_bytes: bytes, method: int) -> bytes:
    """``zip_bytes`` with its one member's compression method rewritten in both headers."""
    data = bytearray(zip_bytes)
    data[8:10] = method.to_bytes(2, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 10 : central + 12] = method.to_bytes(2, "little")
    return bytes(data)


# Each holds ENV where the old reading (gzip, zlib, zstd, brotli, raw deflate) never looked: a zip of
# deflate members (the first file clean JSON, which alone was judged when the files read as one), bzip2 and
# lzma zip members, a .bz2, a .xz, an .lzma, a .tar.gz of a .gz file, a .tar.bz2, a zip in a zip.
HOLDING_KEY: dict[str, Callable[[bytes], bytes]] = {
    "zip": lambda env: zipped([CLEAN[0], ("project/.env", env)]),
    "zip-bzip2": lambda env: zipped([("project/.env", env)], zipfile.ZIP_BZIP2),
    "zip-lzma": lambda env: zipped([("project/.env", env)], zipfile.ZIP_LZMA),
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lzma": lambda env: lzma.compress(env, format=lzma.FORMAT_ALONE),
    "tar.gz": lambda env: gzip.compress(tarred([*CLEAN, ("logs/.env.gz", gzip.compress(env))])),
    "tar.bz2": lambda env: bz2.compress(tarred([*CLEAN, ("project/.env", env)])),
    "zip-in-zip": lambda env: zipped([("outer/inner.zip", zipped([("project/.env", env)]))]),
    # A self-extracting file: a stub, then the zip, found (as unzip finds it) by its end record.
    "zip-after-a-stub": lambda env: b"\x7fELF\x02\x01" + b"\x00\xff" * 300 + zipped([("project/.env", env)]),
}


def record(directory: Path, body: bytes, **options: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/octet-stream"})

    upstream = httpx.MockTransport(handler)
    transport = CassetteTransport(str(directory), mode="record", inner=upstream, **options)
    with httpx.Client(transport=transport) as client:
        client.get(URL)


def put(directory: Path, body: bytes, side_file: bool) -> Path:
    """A cassette file of one GET answered with ``body``: as ``base64``, or in its side file."""
    directory.mkdir(parents=True, exist_ok=True)
    response: dict[str, Any] = {"status": 200, "headers": {"content-type": "application/octet-stream"}}
    if side_file:
        (directory / f"{STEM}.0.bin").write_bytes(body)
        response["body_file"] = f"{STEM}.0.bin"
    else:
        response["base64"] = base64.b64encode(body).decode()
    cassette = {"version": 1, "request": {"method": "GET", "url": URL}, "responses": [response]}
    file = directory / f"{STEM}.json"
    file.write_text(json.dumps(cassette, indent=2))
    return file


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


# -- (a) recording refuses, writing nothing -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(HOLDING_KEY))
def test_recording_an_archive_holding_a_key_is_refused_and_writes_nothing(tmp_path: Path, kind: str) -> None:
    with pytest.raises(CassetteSecretError, match="holds what looks like a credential") as refused:
        record(tmp_path, HOLDING_KEY[kind](ENV))
    assert KEY not in str(refused.value)
    assert any("OpenAI API key" in str(finding) for finding in refused.value.findings)
    assert list(tmp_path.rglob("*")) == []


def test_a_key_in_an_archived_env_file_is_judged_as_in_a_gzipped_one(tmp_path: Path) -> None:
    """No known format: the .env line rule a body gets (a short password set in a line) holds for a file
    in a zip as it does for the same file gzip'd."""
    env = b"DB_HOST=db\nDB_PASSWORD=Summer2024!\n"
    with pytest.raises(CassetteSecretError):
        record(tmp_path / "gzip", gzip.compress(env))
    with pytest.raises(CassetteSecretError, match="value set in a line of text"):
        record(tmp_path / "zip", zipped([CLEAN[0], ("config/.env", env)]))
    assert list(tmp_path.rglob("*.json")) == []


# -- (b) scan flags them, inline and in a side file -----------------------------------------------------


@pytest.mark.parametrize("side_file", [False, True], ids=["base64", "side-file"])
@pytest.mark.parametrize("kind", list(HOLDING_KEY))
def test_scan_flags_a_key_inside_an_archive_body(tmp_path: Path, kind: str, side_file: bool) -> None:
    put(tmp_path, HOLDING_KEY[kind](ENV), side_file)
    status, out, err = run("scan", tmp_path)
    assert status == 1
    assert "OpenAI API key" in out + err
    assert KEY not in out + err


def test_scan_names_the_file_inside_the_archive(tmp_path: Path) -> None:
    put(tmp_path, zipped([CLEAN[0], ("project/.env", ENV)]), side_file=False)
    _, out, err = run("scan", tmp_path)
    assert 'base64["project/.env"]:' in out + err


def test_scan_names_each_file_by_its_path_through_archives_inside_archives(tmp_path: Path) -> None:
    inner = zipped([("deep/.env", ENV)])
    put(tmp_path, zipped([*CLEAN, ("inner.zip", inner)]), side_file=True)
    status, _, err = run("scan", tmp_path)
    assert status == 1
    lines = [line for line in err.splitlines() if "OpenAI API key" in line]
    assert len(lines) == 1
    assert '(side file of $.responses[0])["inner.zip"]["deep/.env"]: OpenAI API key' in lines[0]


# -- (c) what cannot be read through is not checked ---------------------------------------------------


def _lzma_properties(lc: int, lp: int) -> bytes:
    """A zip whose lzma member's properties byte says ``lc`` literal context and ``lp`` literal position
    bits: liblzma refuses lc + lp > 4 when the decompressor is built, before any data is read."""
    data = bytearray(zipped([("a.env", ENV)], zipfile.ZIP_LZMA))
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    data[start + 4] = lc + lp * 9 + 2 * 45
    return bytes(data)


def _many_files() -> bytes:
    return zipped([(f"f{i}.txt", b"hello\n") for i in range(6)])


def _oversized() -> bytes:
    return zipped([("big.txt", b" " * (2 << 20) + ENV)])


UNREADABLE: dict[str, tuple[Callable[[], bytes], str]] = {
    "encrypted member": (lambda: encrypted(zipped([("project/.env", ENV)])), "an encrypted zip member"),
    "damaged directory": (lambda: zipped([("project/.env", ENV)])[:-30], "a corrupt zip archive"),
    "deflate64 member": (lambda: with_method(zipped([("a.env", ENV)]), 9), "compressed with method 9"),
    "member past the bound": (_oversized, "unpacks past what one check reads (1 MiB)"),
    "too many files": (_many_files, "an archive of more than 3 files"),
    "7z": (lambda: b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64), "a 7z archive, which is not read here"),
    "cut tar": (lambda: gzip.compress(tarred([("project/.env", ENV * 20)])[:1500]), "a corrupt tar archive"),
    "lzma properties": (lambda: _lzma_properties(4, 2), "a corrupt zip member (#1) (lzma properties)"),
}


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "MAX_INFLATED", 1 << 20)
    monkeypatch.setattr(archives, "MAX_MEMBERS", 3)


@pytest.mark.usefixtures("small_bounds")
@pytest.mark.parametrize("side_file", [False, True], ids=["base64", "side-file"])
@pytest.mark.parametrize("case", list(UNREADABLE))
def test_an_archive_that_cannot_be_read_through_is_not_checked(
    tmp_path: Path, case: str, side_file: bool
) -> None:
    body, why = UNREADABLE[case]
    put(tmp_path, body(), side_file)
    status, out, err = run("scan", tmp_path)
    assert status == 1  # not called clean
    assert "not checked" in out + err
    assert why in out + err


@pytest.mark.usefixtures("small_bounds")
@pytest.mark.parametrize(
    "case", ["encrypted member", "damaged directory", "member past the bound", "lzma properties"]
)
def test_recording_an_archive_that_cannot_be_read_through_is_refused(tmp_path: Path, case: str) -> None:
    body, why = UNREADABLE[case]
    with pytest.raises(CassetteSecretError, match="cannot read through") as refused:
        record(tmp_path, body())
    assert why in str(refused.value)
    assert list(tmp_path.rglob("*")) == []


def test_a_decoder_failing_on_one_file_leaves_it_not_checked_and_the_others_scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a decoder raises that nothing foresaw (a crafted body, a library's bug) makes that file
    not checked: ``scan`` neither dies with a traceback nor skips the files after it."""
    real = archives.unpack

    def failing(data: bytes, bound: int) -> bytes | archives.Archive | None:
        if data.startswith(b"PK"):
            raise RuntimeError("a decoder's own failure")
        return real(data, bound)

    monkeypatch.setattr(archives, "unpack", failing)
    put(tmp_path / "a", zipped(CLEAN), side_file=False)
    put(tmp_path / "b", ENV, side_file=True)
    put(tmp_path / "c", zipped(CLEAN), side_file=True)
    status, out, err = run("scan", tmp_path)
    assert status == 1
    said = out + err
    assert "a file the scanner failed on (RuntimeError), not read through not checked" in said
    assert said.count("RuntimeError") == 2  # the JSON file of a, the side file of c
    assert "b/get-content-000000000000.0.bin: (side file of $.responses[0]): OpenAI API key" in said


def test_a_bzip2_bomb_inside_a_zip_is_not_read_past_the_bound(tmp_path: Path) -> None:
    """A zip member's bzip2 is decompressed a chunk at a time into the room left: 100 MiB of zeros (a few
    hundred bytes) stops at the bound, where zipfile's own reader would inflate a chunk whole."""
    put(tmp_path, zipped([("zeros", bytes(100 << 20))], zipfile.ZIP_BZIP2), side_file=True)
    status, out, err = run("scan", tmp_path)
    assert status == 1
    assert "unpacks past what one check reads (64 MiB)" in out + err


# -- (d) clean archives record and replay as before ---------------------------------------------------


@pytest.mark.parametrize(
    "pack",
    [
        lambda files: zipped(files),
        lambda files: gzip.compress(tarred(files)),
        lambda files: bz2.compress(tarred(files)),
        lambda files: zipped([("nested.zip", zipped(files))]),
    ],
    ids=["zip", "tar.gz", "tar.bz2", "zip-in-zip"],
)
@pytest.mark.parametrize("inline", [True, False], ids=["base64", "side-file"])
def test_a_clean_archive_records_replays_and_scans_clean_and_one_file_more_does_not(
    tmp_path: Path, pack: Callable[[list[tuple[str, bytes]]], bytes], inline: bool
) -> None:
    body = pack(CLEAN)
    record(tmp_path / "clean", body, max_inline_bytes=1 << 20 if inline else 16)
    assert len(list((tmp_path / "clean").glob("*.bin"))) == (0 if inline else 1)
    with httpx.Client(transport=CassetteTransport(str(tmp_path / "clean"), mode="replay")) as client:
        assert client.get(URL).content == body
    assert run("scan", tmp_path / "clean")[0] == 0
    with pytest.raises(CassetteSecretError):  # the same archive with a gzip'd .env in it
        record(tmp_path / "leaky", pack([*CLEAN, ("logs/.env.gz", gzip.compress(ENV))]))


def test_scan_reads_each_response_of_a_file_on_its_own_budget_as_recording_does(tmp_path: Path) -> None:
    # Five .gz downloads of one URL, each inflating to most of what one check reads: recording checked
    # each on its own budget, so `scan` of the file they make must not call the last ones unread
    from unittest import mock

    from httpx_cassette.core import budget

    blob = gzip.compress(b"x" * 700_000)
    headers = {"content-type": "application/gzip"}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, content=blob, headers=headers))
    with mock.patch.object(budget, "CHECK_BYTES", 1_000_000):
        transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
        with httpx.Client(transport=transport) as client:
            for _ in range(5):
                client.get("https://api.test/v1/export.gz").read()
        assert len(json.loads(next(tmp_path.glob("*.json")).read_text())["responses"]) == 5
        assert scan_directory(tmp_path) == []
