"""A multipart field kept as bytes (``base64``: text in another charset than UTF-8, or with NULs) read as
text, as redaction and the scanner judge it."""

from __future__ import annotations

from httpx_cassette.core.embedded import declared_charset, texts_of_bytes
from httpx_cassette.core.places import decoded_bytes

__all__ = ["field_texts"]


def field_texts(encoded: str, content_type: object) -> list[str]:
    """The field stored as ``encoded`` read every way a client may read it: in the charset its
    ``content_type`` declares, as UTF-8 (else latin-1), and as UTF-16 or UTF-32 when its NULs say so."""
    return texts_of_bytes(decoded_bytes(encoded), declared_charset(content_type))
