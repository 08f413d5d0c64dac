"""A credential found by the scanner: where it is and a masked copy of it, never the value itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import msgspec

__all__ = ["Finding", "mask"]


@dataclass(frozen=True)
class Finding:
    """A value that looks like a credential: where it is and a masked copy (never the value itself)."""

    file: Path | None
    path: str  # a JSON path: "$.responses[0].headers.x-session-key", or "line 12" in a file that is not JSON
    kind: str
    masked: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.file is not None else self.path
        return f"{where}: {self.kind} {self.masked}"

    def remedy(self) -> str:
        """The option that keeps this value off disk."""
        body = re.match(r"\$\.(?:request|responses\[\d+\])\.body(?:\[\d+\]\.__data__)?\.?(.+)", self.path)
        if (
            body
            and not body.group(1).startswith("[")
            and " (" not in body.group(1)
            and "…(" not in body.group(1)
        ):
            return f"redact_json_paths=[{msgspec.json.encode(body.group(1)).decode()}]"
        header = re.match(r"\$\.(?:request|responses\[\d+\])\.headers\.(.+)", self.path)
        if header:
            return f"redact_headers=[{msgspec.json.encode(header.group(1)).decode()}]"
        return 'placeholders={"<NAME>": the_value}'


def mask(secret: str) -> str:
    """The first few characters (at most a quarter) and the length."""
    return f"{secret[: min(6, len(secret) // 4)]}…({len(secret)} chars)"
