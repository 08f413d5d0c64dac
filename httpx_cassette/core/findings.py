"""A credential found by the scanner: where it is and a masked copy of it, never the value itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import msgspec

from httpx_cassette.errors import one_line

__all__ = ["LINE_SETTING", "NOT_CHECKED", "Finding", "mask"]

# A finding's ``masked`` when no value was found because the check could not read that far: not clean.
NOT_CHECKED = "not checked"
# The kind of a finding a line (of a .env, YAML or INI file, or one in any string) sets a secret name to.
LINE_SETTING = "value set in a line of text"


@dataclass(frozen=True)
class Finding:
    """A value that looks like a credential: where it is and a masked copy (never the value itself)."""

    file: Path | None
    path: str  # a JSON path: "$.responses[0].headers.x-session-key", or "line 12" in a file that is not JSON
    kind: str
    masked: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.file is not None else self.path
        return one_line(f"{where}: {self.kind} {self.masked}")  # a file's name or key: one line still

    @property
    def unchecked(self) -> bool:
        """What the check could not read through (a bomb, a coding nothing here decodes, values nested
        past the bound): no value to keep out, and not clean either."""
        return self.masked == NOT_CHECKED

    def remedy(self) -> str:
        """The option that keeps this value off disk (for what was not checked: what to do)."""
        if self.unchecked:
            if "cannot decode" in self.kind:
                return "nothing to redact until it is read: install brotli or zstandard, and scan again"
            return (
                "nothing to redact: scan could not read it through; record the interaction again,"
                " or delete it"
            )
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
