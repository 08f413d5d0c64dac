"""Compression and archive formats that are no HTTP content-coding, read as whoever saves the body and
opens it reads them: bzip2, xz and lzma streams (one layer each), zip and tar archives (their files, each
one layer more). Each is told by its magic bytes, so that any other body costs a dictionary lookup and
a comparison. `httpx_cassette.core.scan_bytes.unpacked_texts` tries them in its layer loop.

Every read is bounded as the other layers are: at most ``bound`` bytes out of a stream or out of all of
an archive's files together, at most `MAX_MEMBERS` files, compressed input fed a chunk at a time to
decompressors that are given the room left (never one unbounded ``decompress()``; a zip member's sizes
are not trusted, so members are not read through `zipfile.ZipFile.open`, which believes them and
decompresses a bzip2 or lzma member's chunk whole). A format recognised that cannot be read through (an
encrypted or corrupt member, 7z or RAR, past a bound) raises `Unreadable`, saying why: not clean.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    import zipfile

__all__ = ["MAX_MEMBERS", "Archive", "Member", "Unreadable", "unpack"]

MAX_MEMBERS = 10_000  # files (and other entries) read in one archive; more is not checked
_CHUNK = 64 * 1024  # compressed bytes fed at a time: what a decompressor sets aside stays this small
_MEMLIMIT = 512 * 1024 * 1024  # what an xz or lzma header may make the decoder allocate
_XZ = b"\xfd7zXZ\x00"
_BZIP2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")  # a first block, or an empty stream's end
_ZIP_ENCRYPTED = 0x41  # general purpose flags: encrypted (bit 0), strong encryption (bit 6)
_PADDING = re.compile(b"\x00*")  # between concatenated xz streams


class Unreadable(Exception):
    """A format its magic bytes name that cannot be read through: the message says why (it names no
    file inside the archive: a name may be a credential)."""


class Member(NamedTuple):
    """One file of an archive: its name and its bytes."""

    name: str
    data: bytes


class Archive(NamedTuple):
    """An archive's files, and its own bytes outside them (names, headers, comments, anything between),
    each file's data cut out."""

    members: list[Member]
    rest: bytes


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: memoryview, max_length: int, /) -> bytes: ...


def unpack(data: bytes, bound: int) -> bytes | Archive | None:
    """``data`` undone when its magic bytes name a format here: a stream's bytes (bzip2, xz, lzma), an
    archive's files (zip, tar); None for anything else. A stream cut short gives what it holds up to the
    cut (as a streaming reader does); output that fills ``bound`` was not read to its end (the caller's
    to report). Raises `Unreadable`."""
    read = _BY_FIRST_BYTE.get(data[:1])
    unpacked = None if read is None else read(data, bound)
    if unpacked is None and data[257:262] == b"ustar":  # POSIX and GNU tar: in the first header
        return _tar(data, bound)
    if unpacked is None and data.rfind(_END, max(0, len(data) - _END_SPAN)) > 0 and _lists(data):
        # A zip after other bytes (a self-extracting file, a script with a zip appended): unzip and
        # zipfile find it by its end record. (Four bytes that only look like one list nothing.)
        return _zip(data, bound)
    return unpacked


def _lists(data: bytes) -> bool:
    """Whether zipfile reads a central directory in ``data``."""
    import zipfile

    try:
        zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # zipfile raises many kinds on what is no zip
        return False
    return True


def _drain(
    view: memoryview, start: int, new: Callable[[], _Decompressor], room: int, kind: str
) -> tuple[bytes, bool, int]:
    """One compressed stream from ``view[start:]``, decompressed into at most ``room`` bytes: its
    bytes, whether it ended, and where what follows it starts."""
    import lzma

    out, at = bytearray(), start
    try:  # building one reads its parameters from the data (an lzma member's properties): inside too
        decompressor = new()
        while not decompressor.eof and at < len(view) and len(out) < room:
            out += decompressor.decompress(view[at : at + _CHUNK], room - len(out))
            at += _CHUNK
    except (OSError, EOFError, ValueError, MemoryError, zlib.error, lzma.LZMAError) as exc:
        raise Unreadable(f"a corrupt {kind} ({type(exc).__name__})") from None
    return bytes(out), decompressor.eof, min(at, len(view)) - len(decompressor.unused_data)


def _streams(data: bytes, bound: int, new: Callable[[], _Decompressor], magic: bytes, kind: str) -> bytes:
    """Every stream of ``data``, one after another (pbzip2 writes one per block), as one output."""
    view, out, start = memoryview(data), bytearray(), 0
    while True:
        got, ended, start = _drain(view, start, new, bound - len(out), kind)
        out += got
        if not ended or len(out) >= bound:
            return bytes(out)
        start = m.end() if (m := _PADDING.match(data, start)) else start
        if data[start : start + len(magic)] != magic:  # trailing bytes: ignored, as bzip2 and xz do
            return bytes(out)


def _bzip2(data: bytes, bound: int) -> bytes | None:
    import bz2

    if data[:3] != b"BZh" or data[4:10] not in _BZIP2_BLOCKS or not 0x31 <= data[3] <= 0x39:
        return None
    return _streams(data, bound, bz2.BZ2Decompressor, b"BZh", "bzip2 stream")


def _xz(data: bytes, bound: int) -> bytes | None:
    import lzma

    if data[:6] != _XZ:
        return None
    return _streams(data, bound, lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ, _MEMLIMIT), _XZ, "xz stream")


def _lzma(data: bytes, bound: int) -> bytes | None:
    """An ``.lzma`` file (lzma-alone): ``]`` (the usual literal and position bits), a dictionary size xz
    would write, and an unknown or plausible uncompressed size."""
    import lzma

    dictionary, size = int.from_bytes(data[1:5], "little"), int.from_bytes(data[5:13], "little")
    if len(data) < 13 or not _dictionary_size(dictionary) or not (size < 1 << 38 or size == (1 << 64) - 1):
        return None
    new = lambda: lzma.LZMADecompressor(lzma.FORMAT_ALONE, _MEMLIMIT)  # noqa: E731
    return _drain(memoryview(data), 0, new, bound, "lzma stream")[0]


def _dictionary_size(size: int) -> bool:
    """2**n or 2**n + 2**(n-1) (4 KiB and up), or 2**32 - 1: what xz takes in a ``.lzma`` header."""
    low = size & -size
    return size >= 4096 and size in (low, 3 * low, (1 << 32) - 1)


def _zip(data: bytes, bound: int) -> Archive:
    """Every entry of the zip's central directory (as unzip and Python's zipfile list them), read from
    its local header: stored, deflate, bzip2 and lzma members."""
    import zipfile

    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception as exc:  # zipfile raises many kinds on a damaged directory
        raise Unreadable(f"a corrupt zip archive ({type(exc).__name__})") from None
    if len(infos) > MAX_MEMBERS:
        raise Unreadable(f"an archive of more than {MAX_MEMBERS:,} files")
    members: list[Member] = []
    spans: list[range] = []
    view, room = memoryview(data), bound
    for number, info in enumerate(infos, 1):
        got, span = _zip_member(view, info, room, f"zip member (#{number})")
        room -= len(got)
        if room <= 0:
            raise Unreadable(f"an archive that unpacks past what one check reads ({bound >> 20} MiB)")
        members.append(Member(info.filename, got))
        spans.append(span)
    return Archive(members, _outside(data, spans))


def _zip_member(view: memoryview, info: zipfile.ZipInfo, room: int, where: str) -> tuple[bytes, range]:
    """A zip member's bytes (at most ``room``) and the span of its data: a stream is read to its own end,
    whatever the headers say its sizes are."""
    import bz2
    import zipfile

    at = info.header_offset
    head = bytes(view[at : at + 30])
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise Unreadable(f"a corrupt {where} (no local header)")
    flags, method = int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if (info.flag_bits | flags) & _ZIP_ENCRYPTED:
        raise Unreadable(f"an encrypted {where}")
    if method != info.compress_type:
        raise Unreadable(f"a {where} whose two headers disagree on its compression")
    start = at + 30 + int.from_bytes(head[26:28], "little") + int.from_bytes(head[28:30], "little")
    if method == zipfile.ZIP_STORED:
        got = bytes(view[start : start + min(info.compress_size, room)])
        return got, range(start, start + len(got))
    if method == zipfile.ZIP_LZMA:
        return _zip_lzma(view, start, info.compress_size, room, where)
    new: Callable[[], _Decompressor]
    if method == zipfile.ZIP_DEFLATED:
        new = lambda: zlib.decompressobj(-zlib.MAX_WBITS)  # noqa: E731
    elif method == zipfile.ZIP_BZIP2:
        new = bz2.BZ2Decompressor
    else:  # deflate64, zstd, xz, PPMd, AES...: what Python's zipfile cannot read either
        raise Unreadable(f"a {where} compressed with method {method}, which is not read here")
    got, ended, end = _drain(view, start, new, room, where)
    if not ended and len(got) < room:
        raise Unreadable(f"a corrupt {where} (its data ends early)")
    return got, range(start, end)


def _zip_lzma(view: memoryview, start: int, size: int, room: int, where: str) -> tuple[bytes, range]:
    """An lzma zip member: a version, its properties' size, the properties (literal and position bits,
    a dictionary size), then raw LZMA1 up to its compressed size (its end marker is optional)."""
    import lzma

    head = bytes(view[start : start + 9])
    # liblzma takes at most 4 literal context and position bits together (lc + lp <= 4).
    if (
        len(head) < 9
        or head[2:4] != b"\x05\x00"
        or head[4] >= 9 * 5 * 5
        or head[4] % 9 + head[4] // 9 % 5 > 4
    ):
        raise Unreadable(f"a corrupt {where} (lzma properties)")
    # A dictionary larger than all that will be read changes nothing: references reach back only so far.
    dictionary = min(int.from_bytes(head[5:9], "little"), max(room, 4096))
    bits = {"lc": head[4] % 9, "lp": head[4] // 9 % 5, "pb": head[4] // 45}
    lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": dictionary, **bits}
    data = view[start + 9 : start + max(size, 9)]
    got, _, end = _drain(data, 0, lambda: lzma.LZMADecompressor(lzma.FORMAT_RAW, None, [lzma1]), room, where)
    return got, range(start, start + 9 + end)


def _tar(data: bytes, bound: int) -> Archive | None:
    """Every regular file of a tar, read past zero blocks and damaged headers (as ``tar -i`` does: what
    any tar reads, this reads). None when the first header is no tar header ("ustar" by chance)."""
    import tarfile

    try:
        tarfile.TarInfo.frombuf(data[:512], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return None
    members: list[Member] = []
    spans: list[range] = []
    room = bound
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:", ignore_zeros=True) as archive:
            for count in range(MAX_MEMBERS + 1):
                if (info := archive.next()) is None:
                    break
                if count == MAX_MEMBERS:
                    raise Unreadable(f"an archive of more than {MAX_MEMBERS:,} files")
                reader = archive.extractfile(info) if info.isreg() else None
                if reader is None:
                    continue
                got = reader.read(room)
                room -= len(got)
                if room <= 0:
                    raise Unreadable(f"an archive that unpacks past what one check reads ({bound >> 20} MiB)")
                members.append(Member(info.name, got))
                spans.append(range(info.offset_data, info.offset_data + info.size))
    except (tarfile.TarError, EOFError, OSError, ValueError, OverflowError) as exc:
        raise Unreadable(f"a corrupt tar archive ({type(exc).__name__})") from None
    return Archive(members, _outside(data, spans))


def _outside(data: bytes, spans: list[range]) -> bytes:
    """``data`` without the ``spans`` of its members' data: a line break stands for each."""
    pieces, at = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > at:
            pieces.append(data[at : span.start])
        at = max(at, span.stop)
    return b"\n".join([*pieces, data[at:]])


def _refused(magic: bytes, kind: str) -> Callable[[bytes, int], None]:
    """A reader of a format known by ``magic`` that nothing here reads: it is not checked."""

    def refuse(data: bytes, bound: int) -> None:
        if data.startswith(magic):
            raise Unreadable(f"a {kind} archive, which is not read here")

    return refuse


_END = b"PK\x05\x06"  # a zip's end of central directory record: 22 bytes and a comment of up to 64 KiB
_END_SPAN = 22 + 0xFFFF


def _zip_or_none(data: bytes, bound: int) -> Archive | None:
    return _zip(data, bound) if data[:4] in (b"PK\x03\x04", b"PK\x05\x06") else None


_BY_FIRST_BYTE: dict[bytes, Callable[[bytes, int], bytes | Archive | None]] = {
    b"B": _bzip2,
    b"\xfd": _xz,
    b"]": _lzma,
    b"P": _zip_or_none,
    b"7": _refused(b"7z\xbc\xaf\x27\x1c", "7z"),
    b"R": _refused(b"Rar!\x1a\x07", "RAR"),
}
