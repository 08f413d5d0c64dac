"""Placeholders: a user's secret values written as names (``<ACCOUNT>``) and put back on replay.

Every form a secret takes on the wire is replaced, by one mechanism wherever a secret is hidden (URLs,
headers, bodies, stream events, error messages, bytes): the text itself and its percent- and
form-encoded forms (each character `quote` encodes written as it is or as ``%XX`` in either case of
hex, a space also as ``+``: ``quote``, ``quote_plus``, a ``Location`` header, a URL inside JSON), a
JSON number when the secret is a whole number, and the bytes of a body stored as base64 (gzip and zlib
bodies are decompressed, replaced and compressed again). All secrets are replaced in one pass, longest
first, so a placeholder's own text is never rewritten by another (``{"<ORG_KEY>": "org-secret-XYZ",
"<O>": "ORG"}`` stays ``<ORG_KEY>``). Replay puts the secret back as plain text, whatever its encoding
was on the wire.

A response that already holds a placeholder's text would be replayed with the secret in its place,
so recording it is refused (`PlaceholderClash`): choose a placeholder that cannot occur in traffic.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import re
import string
import zlib
from collections.abc import Callable, Mapping
from typing import Any

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


_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")  # what `quote` never encodes


def _spellings(secret: str) -> str:
    """A regular expression for ``secret`` written out or percent- or form-encoded, even in part: each
    character `quote` would encode as itself or as its ``%XX`` bytes (hex in either case), a space
    also as ``+``."""
    pieces = []
    for char in secret:
        if char in _UNRESERVED:
            pieces.append(re.escape(char))
            continue
        escaped = "".join(
            "%" + "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")
            for byte in char.encode("utf-8", "surrogatepass")
        )
        plus = r"|\+" if char == " " else ""
        pieces.append(f"(?:{re.escape(char)}|{escaped}{plus})")
    return "".join(pieces)


class _Swap:
    """Every spelling of each secret (`_spellings`) replaced by its placeholder in one pass, longest
    secret first, in text (``str``) or in bytes (UTF-8, and latin-1 where it differs)."""

    def __init__(self, hide: Mapping[str, str]) -> None:
        ordered = sorted(hide, key=len, reverse=True)
        sources = [_spellings(secret) for secret in ordered]
        self._names = [hide[secret] for secret in ordered]
        self._text = re.compile("|".join(f"({s})" for s in sources)) if sources else None
        groups: list[bytes] = []
        self._bytes_names: list[bytes] = []
        for source, name in zip(sources, self._names, strict=True):
            for codec in ("utf-8", "latin-1"):
                try:
                    group, label = b"(" + source.encode(codec) + b")", name.encode(codec)
                except UnicodeEncodeError:
                    continue
                if group not in groups:  # ASCII is the same in both
                    groups.append(group)
                    self._bytes_names.append(label)
        self._bytes = re.compile(b"|".join(groups)) if groups else None

    def text(self, text: str) -> str:
        if self._text is None:
            return text
        return self._text.sub(lambda m: self._names[(m.lastindex or 1) - 1], text)

    def data(self, data: bytes) -> bytes:
        if self._bytes is None:
            return data
        return self._bytes.sub(lambda m: self._bytes_names[(m.lastindex or 1) - 1], data)


class Placeholders:
    """``{placeholder: secret}`` as one-pass replacements both ways. Empty secrets are skipped."""

    def __init__(self, placeholders: Mapping[str, str] | None = None) -> None:
        hide = {secret: name for name, secret in (placeholders or {}).items() if secret}
        self.hiding = hide
        reveal = {name: secret for secret, name in hide.items()}
        self._hide = _Swap(hide)
        self._reveal_pairs = reveal
        self.secrets = reveal  # {placeholder: secret}
        self._reveal = _alternation(reveal)
        self._reveal_bytes = _bytes_pairs(reveal)
        self.numbers = {int(s): n for s, n in hide.items() if s.isdigit() and str(int(s)) == s}
        self.numeric_names = {n: v for v, n in self.numbers.items()}

    def __bool__(self) -> bool:
        return bool(self.hiding)

    def hide(self, text: str) -> str:
        """``text`` with every secret, as written or percent- or form-encoded, replaced by its placeholder."""
        return self._hide.text(text)

    def hide_checked(self, text: str) -> str:
        """`hide`, refusing (`PlaceholderClash`) text that already holds a placeholder."""
        if self._reveal is not None:
            clash = self._reveal.search(text)
            if clash:
                raise PlaceholderClash(clash.group(0))
        return self.hide(text)

    def hide_url(self, text: str) -> str:
        """`hide`, for URLs and form bodies (one mechanism: `hide` replaces encoded secrets everywhere)."""
        return self.hide(text)

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
            _map_base64(encoded, _literal(self._reveal_bytes, _clash))
        return _map_base64(encoded, self._hide.data)

    def reveal_base64(self, encoded: str, unless: Callable[[str], bool] | None = None) -> str:
        """A base64 body with its secrets back, unless its (decompressed) bytes so restored, read as
        Latin-1, say so."""
        return _map_base64(encoded, self._revealer(unless))

    def reveal_bytes(self, raw: bytes, unless: Callable[[str], bool] | None = None) -> bytes:
        """`reveal_base64` for a body kept in a side file."""
        return _map_bytes(raw, self._revealer(unless))

    def _revealer(self, unless: Callable[[str], bool] | None) -> Callable[[bytes], bytes]:
        reveal = _literal(self._reveal_bytes)
        if unless is None:
            return reveal

        def change(data: bytes) -> bytes:  # judged as the client gets it: a secret may bend a URL
            shown = reveal(data)
            return data if shown != data and unless(shown.decode("latin-1")) else shown

        return change


def _literal(
    pairs: dict[bytes, bytes], on_match: Callable[[bytes], bytes] | None = None
) -> Callable[[bytes], bytes]:
    """Each key of ``pairs`` replaced by its value (or by what ``on_match`` makes of it), in one pass."""
    pattern = _alternation(pairs)
    if pattern is None:
        return lambda data: data
    replace = on_match or pairs.__getitem__
    return lambda data: bytes(pattern.sub(lambda m: replace(m.group(0)), data))


def _map_base64(encoded: str, change: Callable[[bytes], bytes]) -> str:
    """A base64 body with ``change`` applied to its bytes, decompressed (gzip, zlib) and compressed again."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return encoded
    new = _map_bytes(raw, change)
    return encoded if new is raw else base64.b64encode(new).decode("ascii")


def _map_bytes(raw: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """``raw`` with ``change`` applied to its bytes, decompressed (gzip, zlib) and compressed again; the
    very object when nothing changed."""
    inflated = inflate(raw)
    data = raw if inflated is None else inflated
    new = change(data)
    if new == data:
        return raw
    if inflated is not None:
        new = gzip.compress(new, mtime=0) if raw[:2] == b"\x1f\x8b" else zlib.compress(new)
    return new


def _clash(found: bytes) -> bytes:
    raise PlaceholderClash(found.decode("utf-8", "replace"))
