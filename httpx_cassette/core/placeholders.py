"""Placeholders: a user's secret values written as names (``<ACCOUNT>``) and put back on replay.

Every form a secret takes on the wire is replaced: the text itself, percent- and form-encoded
(``%20``, ``+``) in URLs and form bodies, a JSON number when the secret is a whole number, and the
bytes of a body stored as base64 (gzip and zlib bodies are decompressed, replaced and compressed
again). All secrets are replaced in one pass, longest first, so a placeholder's own text is never
rewritten by another (``{"<ORG_KEY>": "org-secret-XYZ", "<O>": "ORG"}`` stays ``<ORG_KEY>``).

A response that already holds a placeholder's text would be replayed with the secret in its place,
so recording it is refused (`PlaceholderClash`): choose a placeholder that cannot occur in traffic.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from httpx_cassette.core.places import inflate

__all__ = ["PlaceholderClash", "Placeholders"]


class PlaceholderClash(ValueError):
    """Recorded traffic holds a placeholder's own text; replay would put the secret there."""

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder
        super().__init__(f"the traffic itself holds the placeholder text {placeholder!r}")


def _alternation(pairs: Mapping[Any, Any]) -> Any:
    """One regex matching every key of ``pairs`` (str or bytes), longest first; None when empty."""
    if not pairs:
        return None
    ordered = sorted(pairs, key=len, reverse=True)
    if isinstance(ordered[0], bytes):
        return re.compile(b"|".join(re.escape(k) for k in ordered))
    return re.compile("|".join(re.escape(k) for k in ordered))


def _bytes_pairs(pairs: Mapping[str, str]) -> dict[bytes, bytes]:
    """The UTF-8 and, where it differs, latin-1 bytes of each pair (latin-1 text is stored as base64)."""
    found: dict[bytes, bytes] = {}
    for old, new in pairs.items():
        found[old.encode("utf-8")] = new.encode("utf-8")
        with contextlib.suppress(UnicodeEncodeError):
            found.setdefault(old.encode("latin-1"), new.encode("latin-1"))
    return found


class Placeholders:
    """``{placeholder: secret}`` as one-pass replacements both ways. Empty secrets are skipped."""

    def __init__(self, placeholders: Mapping[str, str] | None = None) -> None:
        hide = {secret: name for name, secret in (placeholders or {}).items() if secret}
        self.hiding = hide
        reveal = {name: secret for secret, name in hide.items()}
        encoded = {quote(s, safe=""): n for s, n in hide.items()}
        encoded |= {quote_plus(s, safe=""): n for s, n in hide.items()}
        self._hide = _alternation(hide)
        self._in_urls = _alternation({**encoded, **hide})
        self._url_pairs = {**encoded, **hide}
        self._reveal_pairs = reveal
        self._reveal = _alternation(reveal)
        self._hide_bytes = _bytes_pairs(hide)
        self._reveal_bytes = _bytes_pairs(reveal)
        self.numbers = {int(s): n for s, n in hide.items() if s.isdigit() and str(int(s)) == s}
        self.numeric_names = {n: v for v, n in self.numbers.items()}

    def __bool__(self) -> bool:
        return bool(self.hiding)

    def hide(self, text: str) -> str:
        """``text`` with every secret replaced by its placeholder."""
        return self._hide.sub(lambda m: self.hiding[m.group(0)], text) if self._hide else text

    def hide_checked(self, text: str) -> str:
        """`hide`, refusing (`PlaceholderClash`) text that already holds a placeholder."""
        if self._reveal is not None:
            clash = self._reveal.search(text)
            if clash:
                raise PlaceholderClash(clash.group(0))
        return self.hide(text)

    def hide_url(self, text: str) -> str:
        """`hide` for URLs and form bodies, where a secret may be percent- or form-encoded."""
        return self._in_urls.sub(lambda m: self._url_pairs[m.group(0)], text) if self._in_urls else text

    def reveal(self, text: str) -> str:
        """``text`` with every placeholder replaced by its secret (for replay)."""
        return self._reveal.sub(lambda m: self._reveal_pairs[m.group(0)], text) if self._reveal else text

    def hide_number(self, value: int) -> int | str:
        return self.numbers.get(value, value)

    def reveal_number(self, value: str) -> int | None:
        """The number a whole-value placeholder of a numeric secret stands for."""
        return self.numeric_names.get(value)

    def hide_base64(self, encoded: str, *, check: bool = False) -> str:
        """A base64 body with the secrets in its (decompressed) bytes replaced."""
        if check and self._reveal_bytes:
            self._map_base64(encoded, self._reveal_bytes, _clash)
        return self._map_base64(encoded, self._hide_bytes)

    def reveal_base64(self, encoded: str) -> str:
        return self._map_base64(encoded, self._reveal_bytes)

    @staticmethod
    def _map_base64(
        encoded: str, pairs: dict[bytes, bytes], on_match: Callable[[bytes], bytes] | None = None
    ) -> str:
        pattern = _alternation(pairs)
        if pattern is None:
            return encoded
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return encoded
        inflated = inflate(raw)
        data = raw if inflated is None else inflated
        new = pattern.sub(lambda m: (on_match or pairs.__getitem__)(m.group(0)), data)
        if new == data:
            return encoded
        if inflated is not None:
            new = gzip.compress(new, mtime=0) if raw[:2] == b"\x1f\x8b" else zlib.compress(new)
        return base64.b64encode(new).decode("ascii")


def _clash(found: bytes) -> bytes:
    raise PlaceholderClash(found.decode("utf-8", "replace"))
