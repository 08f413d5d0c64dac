"""`scan_directory`: the secret scanner over cassette files on disk (what `httpx-cassette scan` runs),
their contents and their names (a folder named after a test id that held a credential)."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.core import budget
from httpx_cassette.core.findings import NOT_CHECKED
from httpx_cassette.core.scan import Finding, SecretScanner, mask
from httpx_cassette.core.scan_bytes import coded_findings
from httpx_cassette.core.shown import printable, shown
from httpx_cassette.errors import CassetteError
from httpx_cassette.storage.codec import MAX_CONTAINERS
from httpx_cassette.storage.files import cassette_files, is_side_file, name_problem, open_inside
from httpx_cassette.storage.formats import detect

__all__ = ["masked_name", "scan_directory"]

_SCANNER = SecretScanner()


@dataclasses.dataclass(frozen=True)
class _NameFinding(Finding):
    """A credential in the name of a folder or a file: renaming it is what keeps it out of git."""

    def remedy(self) -> str:
        return "rename it; the pytest plugin names a test whose id holds a credential by a hash of it"


def masked_name(name: str, scanner: SecretScanner = _SCANNER) -> str:
    """``name`` (of a folder or a file) as shown: if the scanner finds a credential in it, with what
    `shown` masks, or masked whole (`mask`) when that masks nothing; else ``name`` itself."""
    if not scanner.scan(name, "(a name)"):
        return name
    masked = shown(name)
    return masked if masked != printable(name) else mask(name)


def scan_directory(
    path: str | os.PathLike[str], allow: Iterable[str | re.Pattern[str]] = ()
) -> list[Finding]:
    """Every credential-looking value in the cassette files under ``path`` (a directory, searched
    recursively, or one file), by the rules recording applies (`SecretScanner`). A file that is not
    valid JSON is scanned as text, line by line; side files (``.bin``) and base64 bodies are decoded and
    decompressed first. Another recorder's file (llama-stack) is scanned as it is and as replay serves
    it (read by its format's adapter). The names of the files and folders below ``path`` are scanned
    too (each as one string), and a finding's file is shown with such names masked."""
    scanner = SecretScanner(allow)
    root = Path(path)
    files = [root] if root.is_file() else cassette_files(root, recursive=True, bodies=True)  # hidden too
    names, masked = _in_names(scanner, root.parent if root.is_file() else root, files)
    with budget.run():  # many small bombs, each within one check's budget, are bounded all together
        return names + [_masked_file(f, masked) for f in _in_contents(scanner, files)]


# A side file, by the responses that serve it: each one's index and headers.
_Uses = dict[Path, list[tuple[int, dict[str, str]]]]


def _in_contents(scanner: SecretScanner, files: list[Path]) -> list[Finding]:
    findings: list[Finding] = []
    uses: _Uses = {}
    for file in (f for f in files if f.suffix != ".bin"):
        data = open_inside(file.parent, file.name)  # never a link, a FIFO or a device
        findings += _guarded(file, functools.partial(_in_file, scanner, file, data, uses))
    for side in (f for f in files if f.suffix == ".bin"):
        data = open_inside(side.parent, side.name)
        findings += _guarded(side, functools.partial(_in_side_file, scanner, side, data, uses))
    return findings


def _guarded(file: Path, scan: Callable[[], list[Finding]]) -> list[Finding]:
    """``scan()`` of one file; an error it did not foresee (a decoder's, on a crafted body) makes that
    file not checked, and the other files are scanned all the same."""
    try:
        return scan()
    except Exception as exc:  # whatever a third-party decoder raises: reported, never a crash
        kind = f"a file the scanner failed on ({type(exc).__name__}), not read through"
        return [Finding(file, "$", kind, NOT_CHECKED)]


def _in_file(scanner: SecretScanner, file: Path, data: bytes, uses: _Uses) -> list[Finding]:
    """One cassette file's findings; the side files its responses serve are noted in ``uses``."""
    findings: list[Finding] = []
    if data.count(b"{") + data.count(b"[") > MAX_CONTAINERS:  # as loading refuses it: too costly
        kind = f"a file with more than {MAX_CONTAINERS:,} JSON objects and arrays, read as text only"
        findings.append(Finding(file, "$", kind, NOT_CHECKED))
        data = data.replace(b"{", b" ").replace(b"[", b" ")  # its lines still get the known formats
    try:  # only a file that is no JSON is read as text: a scan never falls back to it
        value = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        if file.suffix == ".json":  # a cassette cut short or broken: its bodies were never decoded
            kind = f"a file that is no JSON ({printable(str(exc))[:80]}), read as text only"
            findings.append(Finding(file, "$", kind, NOT_CHECKED))
        text = data.decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), 1):
            findings += scanner.in_text(line, f"line {number}", file)
        return findings
    found = _by_part(scanner, value, file)
    seen = {f.masked for f in found}
    findings += found + [f for f in _as_replayed(scanner, value, file) if f.masked not in seen]
    _served_side_files(value, file, uses)
    return findings


def _by_part(scanner: SecretScanner, value: Any, file: Path) -> list[Finding]:
    """`SecretScanner.scan` of a parsed file, each response on its own budget as recording checks it:
    five responses each inflating to most of what one check reads pass recording, and so pass here."""
    responses = value.get("responses") if isinstance(value, dict) else None
    if not isinstance(responses, list):
        return scanner.scan(value, "$", file)
    found = scanner.scan({k: v for k, v in value.items() if k != "responses"}, "$", file)
    for i, response in enumerate(responses):
        found += scanner.scan(response, f"$.responses[{i}]", file)
    return list(dict.fromkeys(found))


def _in_side_file(scanner: SecretScanner, side: Path, data: bytes, uses: _Uses) -> list[Finding]:
    """A side file, read as each response naming it serves it (its charset, its content-encoding)."""
    if side not in uses:
        return scanner.in_bytes(data, "(side file)", side)
    served = [
        f
        for i, headers in uses[side]
        for f in coded_findings(scanner, data, f"(side file of $.responses[{i}])", side, headers)
    ]
    return list(dict.fromkeys(served))


def _served_side_files(value: Any, file: Path, uses: _Uses) -> None:
    """Note the side files of ``file`` (parsed as ``value``) its responses serve, as loading accepts them."""
    responses = value.get("responses") if isinstance(value, dict) else None
    for i, response in enumerate(responses if isinstance(responses, list) else []):
        name = response.get("body_file") if isinstance(response, dict) else None
        if isinstance(name, str) and name_problem(name) is None and is_side_file(name, file):
            headers = response.get("headers")
            headers = {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
            uses.setdefault(file.parent / name, []).append((i, headers))


def _in_names(
    scanner: SecretScanner, base: Path, files: list[Path]
) -> tuple[list[Finding], dict[Path, Path]]:
    """The credentials in the names of ``files`` and of their folders below ``base`` (each name once,
    with its path shown masked), and for each file whose path holds one, that path masked."""
    leaves = {file.relative_to(base) for file in files}
    names = leaves | {folder for leaf in leaves for folder in leaf.parents if folder != Path(".")}
    found = {name: scanner.scan(name.name, "(its name)") for name in sorted(names)}
    shown_as = {name: masked_name(name.name, scanner) for name, hits in found.items() if hits}

    def masked(relative: Path) -> Path:
        parts = relative.parts
        return base.joinpath(*(shown_as.get(Path(*parts[: i + 1]), part) for i, part in enumerate(parts)))

    findings: list[Finding] = [
        _NameFinding(
            masked(name), "(a file name)" if name in leaves else "(a folder name)", hit.kind, hit.masked
        )
        for name, hits in found.items()
        for hit in hits
    ]
    flagged = {
        base / leaf: masked(leaf) for leaf in leaves if any(p in shown_as for p in (leaf, *leaf.parents))
    }
    return findings, flagged


def _masked_file(finding: Finding, masked: dict[Path, Path]) -> Finding:
    """``finding`` with its file shown as `_in_names` masked it (a finding never shows the value)."""
    if finding.file is None or finding.file not in masked:
        return finding
    return dataclasses.replace(finding, file=masked[finding.file])


def _as_replayed(scanner: SecretScanner, value: Any, file: Path) -> list[Finding]:
    """What the file of another recorder (llama-stack) holds once its format's reader made it what
    replay serves, ``id_normalization_mapping`` applied: a credential split between a body and the
    mapping is whole only there. Paths are those of our format, marked ``(as replayed)``; a file the
    reader refuses is not replayed either, so its raw JSON says all."""
    adapter = detect(value) if isinstance(value, dict) and "responses" not in value else None  # as the codec
    if adapter is None:
        return []
    try:
        cassette = adapter.read(value, str(file))
    except (CassetteError, ValueError, TypeError, RecursionError):
        return []
    found = scanner.scan_struct(cassette.request, "$.request")
    for i, response in enumerate(cassette.responses):  # the origin is the raw file, scanned already
        found += scanner.scan_struct(msgspec.structs.replace(response, origin=None), f"$.responses[{i}]")
    return [dataclasses.replace(f, file=file, path=f"{f.path} (as replayed)") for f in found]
