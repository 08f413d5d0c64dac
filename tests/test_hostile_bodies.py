"""Bodies a hostile file stores coded (``base64`` or a side file, with the ``content-encoding`` the client
undoes): a decompression bomb is refused at load, naming the file, before any client inflates it; ``scan``
reads a side file as the response naming it serves it (its charset, its coding); ``show`` shows a coded
body as the client reads it. Files are written as raw JSON into ``tmp_path``, as a pull request brings them.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import sys
import zlib
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import zstandard

from httpx_cassette import CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.errors import CassetteFormatError

URL = "https://api.example.com/v1/x"
STEM = "get-x-000000000000"
TOKEN = "ghp_zPgirZQSoctcvXqhpTcvUtSbQwsPtXqsYdma"
ANSWER = {"id": "c", "object": "chat.completion", "choices": [{"message": {"content": "HIDDEN: drop it"}}]}


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def put(directory: Path, response: dict[str, Any], side: bytes | None = None) -> Path:
    """A cassette file of one GET and ``response``; ``side``: the bytes of its side file."""
    directory.mkdir(parents=True, exist_ok=True)
    if side is not None:
        (directory / f"{STEM}.0.bin").write_bytes(side)
        response = {**response, "body_file": f"{STEM}.0.bin"}
    file = directory / f"{STEM}.json"
    cassette = {"version": 1, "request": {"method": "GET", "url": URL}, "responses": [response]}
    file.write_text(json.dumps(cassette, indent=2))
    return file


def coded(data: bytes, coding: str, ctype: str = "application/octet-stream") -> dict[str, Any]:
    headers = {"content-type": ctype, "content-encoding": coding}
    return {"status": 200, "headers": headers, "base64": base64.b64encode(data).decode()}


def replayed(directory: Path) -> bytes:
    with httpx.Client(transport=CassetteTransport(str(directory), mode="replay")) as client:
        return client.get(URL).content


def gzip_of_zeros(size: int) -> bytes:
    """A gzip of ``size`` zero bytes, built in 1 MiB steps (65 MiB: ~64 KB, ~0.1 s)."""
    packer, block = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


BOMB = 65 << 20  # just past the 64 MiB bound: the old code inflated it in a blink, so the test stays fast


# -- a coded body that decodes past the bound is refused at load -------------------------------------


def test_a_gzip_of_a_gzip_bomb_is_refused_before_the_client_inflates_it(tmp_path: Path) -> None:
    layered = gzip.compress(gzip_of_zeros(BOMB))  # 65 MiB in ~300 bytes of file
    file = put(tmp_path, coded(layered, "gzip, gzip"))
    with pytest.raises(CassetteFormatError) as refused:
        replayed(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"broken cassette file {file}: responses[0].base64:")
    assert "'gzip, gzip' decodes to more than 64 MiB" in message
    status, out, err = run("verify", tmp_path)
    assert status == 1
    assert "decodes to more than 64 MiB" in err
    assert "all good" not in out


def test_a_side_file_bomb_is_refused_too(tmp_path: Path) -> None:
    response = {"status": 200, "headers": {"content-type": "text/plain", "content-encoding": "gzip"}}
    put(tmp_path, response, side=gzip_of_zeros(BOMB))
    with pytest.raises(CassetteFormatError, match=r"responses\[0\]\.body_file .*more than 64 MiB"):
        replayed(tmp_path)
    status, _, err = run("verify", tmp_path)
    assert status == 1
    assert "decodes to more than 64 MiB" in err


def _deflate(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


# Every coding a client undoes, alone and layered; the bound is lowered to 1 MiB so a bomb is 2 MiB.
CODED = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": lambda d: _deflate(d, zlib.MAX_WBITS),
    "deflate (raw)": lambda d: _deflate(d, -zlib.MAX_WBITS),
    "br": brotli.compress,
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
    "gzip, br": lambda d: brotli.compress(gzip.compress(d)),
    "br, gzip, deflate": lambda d: _deflate(gzip.compress(brotli.compress(d)), 15),
    "gzip, identity, gzip": lambda d: gzip.compress(gzip.compress(d)),
    "gzip (two members)": lambda d: gzip.compress(d[: len(d) // 2]) + gzip.compress(d[len(d) // 2 :]),
}


@pytest.mark.parametrize("name", CODED)
def test_every_coding_a_client_undoes_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr("httpx_cassette.core.decoding.MAX_DECODED", 1 << 20, raising=False)
    coding = name.split(" (")[0]
    put(tmp_path / "bomb", coded(CODED[name](bytes(2 << 20)), coding))
    with pytest.raises(CassetteFormatError, match="decodes to more than 1 MiB"):
        replayed(tmp_path / "bomb")
    # Below the bound, the same coding replays exactly as before: the client gets the body decoded.
    body = json.dumps({"items": list(range(50_000))}).encode()  # ~340 KB
    stored = CODED[name](body)
    put(tmp_path / "fine", coded(stored, coding, "application/json"))
    # httpx leaves x-gzip as it is, and reads the first gzip member only
    expected = {"x-gzip": stored, "gzip (two members)": body[: len(body) // 2]}.get(name, body)
    assert replayed(tmp_path / "fine") == expected


def test_an_unknown_coding_in_a_list_is_bounded_as_urllib3_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx passes "x-foo" over; urllib3 reads a coding it does not know, in a list, as deflate.
    monkeypatch.setattr("httpx_cassette.core.decoding.MAX_DECODED", 1 << 20, raising=False)
    put(tmp_path, coded(_deflate(gzip.compress(bytes(2 << 20)), -15), "gzip, x-foo"))
    status, _, err = run("verify", tmp_path)
    assert status == 1
    assert "'gzip, x-foo' decodes to more than 1 MiB" in err


def test_an_ordinary_gzip_body_stored_coded_replays_as_before(tmp_path: Path) -> None:
    body = json.dumps(ANSWER).encode()
    put(tmp_path, coded(gzip.compress(body), "gzip", "application/json"))
    with httpx.Client(transport=CassetteTransport(str(tmp_path), mode="replay")) as client:
        response = client.get(URL)
    assert response.json() == ANSWER
    assert response.headers["content-encoding"] == "gzip"
    assert run("verify", tmp_path)[0] == 0


def test_scan_advises_no_placeholder_for_a_body_it_could_not_read(tmp_path: Path) -> None:
    put(tmp_path, coded(gzip.compress(gzip_of_zeros(BOMB)), "gzip, gzip"))
    status, out, err = run("scan", tmp_path)
    assert status == 1  # what was not read is not called clean
    assert "not checked" in err
    assert "placeholders=" not in err
    assert (
        "(what to do: nothing to redact: scan could not read it through; record the interaction again" in err
    )
    assert "to keep it out" not in err
    assert out.endswith(" not checked\n")  # no secret was found: none is counted
    assert "possible secret" not in out


# -- scan reads a side file as the response naming it serves it ---------------------------------------


def _utf7(text: str) -> bytes:
    """``text`` in UTF-7, its letters base64-encoded UTF-16: no ``ghp_`` in the bytes."""
    return b"token +" + base64.b64encode(text.encode("utf-16-be")).rstrip(b"=") + b"-"


@pytest.mark.parametrize("coding", ["", "gzip", "br", "deflate"])
def test_scan_reads_a_side_file_in_its_responses_charset_and_coding(tmp_path: Path, coding: str) -> None:
    raw = _utf7(TOKEN)
    assert raw.decode("utf-7") == f"token {TOKEN}"
    assert b"ghp_" not in raw
    side = {"": raw, "gzip": gzip.compress(raw), "br": brotli.compress(raw), "deflate": _deflate(raw, -15)}
    headers = {"content-type": "text/plain; charset=utf-7"} | ({"content-encoding": coding} if coding else {})
    put(tmp_path, {"status": 200, "headers": headers}, side=side[coding])
    assert TOKEN in httpx.Client(transport=CassetteTransport(str(tmp_path), mode="replay")).get(URL).text
    status, _, err = run("scan", tmp_path)
    assert status == 1
    assert f"{STEM}.0.bin: (side file of $.responses[0]): GitHub token" in err


def test_scan_still_reads_a_side_file_no_response_names(tmp_path: Path) -> None:
    put(tmp_path, {"status": 200, "text": "hi"})
    (tmp_path / f"{STEM}.3.bin").write_bytes(f"leftover {TOKEN}".encode())
    status, _, err = run("scan", tmp_path)
    assert status == 1
    assert f"{STEM}.3.bin: (side file): GitHub token" in err


# -- show shows a coded body as the client reads it --------------------------------------------------


def test_show_undoes_the_coding_of_a_json_body_stored_as_base64(tmp_path: Path) -> None:
    file = put(tmp_path, coded(gzip.compress(json.dumps(ANSWER).encode()), "gzip", "application/json"))
    status, out, _ = run("show", file)
    assert status == 0
    assert "stored as base64, in content-encoding 'gzip', decoded to" in out
    assert '"content": "HIDDEN: drop it"' in out


def test_show_undoes_the_coding_of_a_side_file_and_escapes_its_text(tmp_path: Path) -> None:
    text = "answer: \x1b]52;c;cGF3bmVk\x07 \x1b[2J\u202eyes\n"
    response = {"status": 200, "headers": {"content-type": "text/plain", "content-encoding": "br, gzip"}}
    file = put(tmp_path, response, side=gzip.compress(brotli.compress(text.encode())))
    status, out, _ = run("show", file)
    assert status == 0
    assert f"stored in the file {STEM}.0.bin next to this one, in content-encoding" in out
    assert "answer:" in out
    assert "yes" in out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out


def test_show_says_what_a_coded_body_that_does_not_decode_is(tmp_path: Path) -> None:
    file = put(tmp_path, coded(b"\x1f\x8bnot gzip at all", "gzip", "application/json"))
    status, out, _ = run("show", file)
    assert status == 0
    assert "in content-encoding 'gzip', which does not decode" in out


def _fixed_huffman(symbol: int) -> list[int]:
    """The bits of a literal (or end-of-block, 256) in deflate's fixed Huffman code, first bit first."""
    code, width = (0x30 + symbol, 8) if symbol < 144 else (0x190 + symbol - 144, 9)
    if symbol >= 256:
        code, width = symbol - 256, 7
    return [(code >> (width - 1 - i)) & 1 for i in range(width)]


def _ascii_deflate(text: bytes) -> bytes | None:
    """A raw deflate stream of only ASCII bytes inflating to ``text``, or None: an empty block (an end of
    block and a new header, ten bits of nothing) moves each literal until no byte gets its top bit set."""
    bits, gap = [0, 1, 0], [*_fixed_huffman(256), 0, 1, 0]

    def place(piece: list[int]) -> bool:
        for gaps in range(8):
            trial = bits + gap * gaps + piece
            if all(trial[i] == 0 for i in range(len(bits), len(trial)) if i % 8 == 7):
                bits[:] = trial
                return True
        return False

    if not all(place(_fixed_huffman(c)) for c in text) or not place([*_fixed_huffman(256), 1, 1, 0]):
        return None
    if not place(_fixed_huffman(256)):
        return None
    bits.extend([0] * (-len(bits) % 8))
    stream = bytes(sum(bits[i + k] << k for k in range(8)) for i in range(0, len(bits), 8))
    return stream if stream.isascii() and zlib.decompress(stream, -15) == text else None


def test_scan_undoes_the_coding_the_header_names_even_when_the_bytes_are_all_ascii(tmp_path: Path) -> None:
    # Sniffing by magic bytes passes over an all-ASCII layer; the client undoes what the header names.
    pick = random.Random(7).choice
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for attempt in range(400):  # a 9-bit literal (0xA0) before the token flips the bits' parity
        token = "ghp_" + "".join(pick(alphabet) for _ in range(36))
        stream = _ascii_deflate(b"token" + (b"\xa0" if attempt % 2 else b" ") + token.encode() + b"\n")
        if stream is not None:
            break
    assert stream is not None
    put(tmp_path, coded(stream, "deflate", "text/plain"))
    assert token.encode() in replayed(tmp_path)  # what a client reads
    status, out, err = run("scan", tmp_path)
    assert status == 1
    assert "GitHub token" in out + err


def test_the_bound_holds_per_layer_as_the_scanner_reads_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.8 MiB of random bytes, gzipped twice: each layer decodes to under 1 MiB, both together to more.
    monkeypatch.setattr("httpx_cassette.core.decoding.MAX_DECODED", 1 << 20, raising=False)
    body = random.Random(3).randbytes(800_000)
    put(tmp_path, coded(gzip.compress(gzip.compress(body)), "gzip, gzip"))
    assert run("verify", tmp_path)[0] == 0


def test_a_brotli_without_a_bounded_decoder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unbounded:  # brotli before 1.2: `process` takes no output_buffer_limit
        def process(self, data: bytes) -> bytes:
            return brotli.decompress(data)

        def is_finished(self) -> bool:
            return True

    monkeypatch.setattr(brotli, "Decompressor", Unbounded)
    put(tmp_path, coded(brotli.compress(b'{"ok": true}'), "br", "application/json"))
    with pytest.raises(
        CassetteFormatError, match=r"cannot be decoded with a bound here: pip install 'brotli>=1\.2'"
    ):
        replayed(tmp_path)


def test_zstd_is_bounded_without_zstandard_as_httpx2_decodes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx2 undoes zstd with the standard library's module (or backports.zstd), not zstandard.
    pytest.importorskip("backports.zstd" if sys.version_info < (3, 14) else "compression.zstd")
    monkeypatch.setitem(sys.modules, "zstandard", None)  # importing it raises ImportError
    monkeypatch.setattr("httpx_cassette.core.decoding.MAX_DECODED", 1 << 20, raising=False)
    frames = zstandard.ZstdCompressor().compress(bytes(2 << 20))
    put(tmp_path / "bomb", coded(frames, "zstd"))
    status, _, err = run("verify", tmp_path / "bomb")
    assert status == 1
    assert "'zstd' decodes to more than 1 MiB" in err
    two = zstandard.ZstdCompressor().compress(b"a" * 1000) + zstandard.ZstdCompressor().compress(b"b" * 500)
    put(tmp_path / "fine", coded(two, "zstd"))
    assert run("verify", tmp_path / "fine")[0] == 0
