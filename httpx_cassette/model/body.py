"""Bodies as stored: a JSON value when the bytes are JSON, text when they are UTF-8, else base64.

Shared by requests and responses, in both directions (bytes -> fields on record, fields -> bytes
on replay), so what is written is exactly what is served back.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette.model.cassette import Request, Response

__all__ = ["body_bytes", "is_json_type", "media_type", "store_body"]


def media_type(content_type: str | None) -> str:
    """``"application/json; charset=utf-8"`` -> ``"application/json"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(mtype: str) -> bool:
    return mtype == "application/json" or mtype.endswith("+json")


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset":
            return value.strip('"').lower()
    return "utf-8"


def store_body(target: Request | Response, content: bytes, content_type: str) -> None:
    """Set exactly one of ``body``/``text``/``base64`` on ``target`` from raw ``content``."""
    if not content:
        return
    if is_json_type(media_type(content_type)):
        try:
            target.body = msgspec.json.decode(content)
            return
        except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter for bad UTF-8
            pass  # mislabelled: keep it as text or bytes, byte for byte
    if _charset(content_type) in ("utf-8", "utf8", "ascii", "us-ascii"):
        try:
            target.text = content.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    target.base64 = base64.b64encode(content).decode("ascii")


def body_bytes(source: Request | Response) -> bytes:
    """The bytes a stored body stands for (the inverse of `store_body`)."""
    body: Any = source.body
    if body is not UNSET:
        return msgspec.json.encode(body)
    if isinstance(source.text, str):
        return source.text.encode("utf-8")
    if isinstance(source.base64, str):
        return base64.b64decode(source.base64, validate=True)  # as `scan` reads it: no byte skipped
    return b""
