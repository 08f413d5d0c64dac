"""`scan_directory`: the secret scanner over cassette files on disk (what `httpx-cassette scan` runs)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import msgspec

from httpx_cassette.core.scan import Finding, SecretScanner
from httpx_cassette.storage.files import cassette_files, open_inside

__all__ = ["scan_directory"]


def scan_directory(
    path: str | os.PathLike[str], allow: Iterable[str | re.Pattern[str]] = ()
) -> list[Finding]:
    """Every credential-looking value in the cassette files under ``path`` (a directory, searched
    recursively, or one file), by the rules recording applies (`SecretScanner`). A file that is not
    valid JSON is scanned as text, line by line; side files (``.bin``) and base64 bodies are decoded and
    decompressed first."""
    scanner = SecretScanner(allow)
    findings: list[Finding] = []
    root = Path(path)
    files = [root] if root.is_file() else cassette_files(root, recursive=True, bodies=True)  # hidden too
    for side in (f for f in files if f.suffix == ".bin"):
        findings += scanner.in_bytes(open_inside(side.parent, side.name), "(side file)", side)
    for file in (f for f in files if f.suffix != ".bin"):
        data = open_inside(file.parent, file.name)  # never a link, a FIFO or a device
        try:
            findings += scanner.scan(msgspec.json.decode(data), "$", file)
        except (msgspec.DecodeError, RecursionError):
            text = data.decode("utf-8", "replace")
            for number, line in enumerate(text.splitlines(), 1):
                findings += scanner.in_text(line, f"line {number}", file)
    return findings
