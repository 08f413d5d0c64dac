"""`scan_directory`: the secret scanner over cassette files on disk (what `httpx-cassette scan` runs)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import msgspec

from httpx_cassette.core.scan import Finding, SecretScanner

__all__ = ["scan_directory"]


def _files(root: Path, suffix: str) -> list[Path]:
    if root.is_file():
        return [root] if root.name.endswith(suffix) else []
    found = [Path(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(suffix)]
    return sorted(f for f in found if not f.is_symlink() and f.is_file())  # never a read outside


def scan_directory(
    path: str | os.PathLike[str], allow: Iterable[str | re.Pattern[str]] = ()
) -> list[Finding]:
    """Every credential-looking value in the cassette files under ``path`` (a directory, searched
    recursively, or one file), by the rules recording applies (`SecretScanner`). A file that is not
    valid JSON is scanned as text, line by line; side files (``.bin``) and base64 bodies are decoded and
    decompressed first."""
    scanner = SecretScanner(allow)
    findings: list[Finding] = []
    for side in _files(Path(path), ".bin"):
        findings += scanner.in_bytes(side.read_bytes(), "(side file)", side)
    for file in _files(Path(path), ".json"):
        data = file.read_bytes()
        try:
            findings += scanner.scan(msgspec.json.decode(data), "$", file)
        except (msgspec.DecodeError, RecursionError):
            text = data.decode("utf-8", "replace")
            for number, line in enumerate(text.splitlines(), 1):
                findings += scanner.in_text(line, f"line {number}", file)
    return findings
