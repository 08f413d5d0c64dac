"""Proof that a response's placeholders were written by the recording, which replay asks before it puts
a secret back.

A cassette is read back from pull requests, and anyone can write ``<OPENAI_API_KEY>`` into a recorded
answer: replay would hand the test the real key, which a failing assertion prints into a public CI log
and an agent's tool call sends on. The machine that recorded knew the secret; the author of a pull
request does not. So recording seals each response that holds a placeholder: an HMAC keyed by the
secret (through scrypt, `httpx_cassette.core.hashing`: a seal makes a weak secret no cheaper to guess
than a hashed header does) over the response as stored, its body's bytes and the key of the request it
answers. Replay puts a placeholder's secret back only in a response whose seal for it holds: a response
edited by hand, moved to another request, or recorded before seals keeps the placeholder as its text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

import msgspec

from httpx_cassette.core.hashing import hashed
from httpx_cassette.core.places import inflate
from httpx_cassette.model.cassette import Response

__all__ = ["proven", "sealed"]

_UNSET = msgspec.UNSET
_SCHEME = "hmac-sha256:"
_DOMAIN = b"httpx-cassette placeholder seal v1"


def _body(response: Response, side: bytes | None) -> bytes:
    """The body kept as bytes: a side file's, or the base64 one's (the same bytes, wherever they went)."""
    if side is not None:
        return side
    if isinstance(response.base64, str):
        try:
            return base64.b64decode(response.base64, validate=True)
        except (binascii.Error, ValueError):
            return response.base64.encode("utf-8", "surrogatepass")
    return b""


def _held(name: str, stored: bytes, body: bytes) -> bool:
    """Whether ``name`` is written in the response (its JSON, its body's bytes, decompressed too)."""
    text = name.encode("utf-8")
    return text in stored or text in body or text in (inflate(body) or b"")


def _tag(name: str, secret: str, key: str, stored: bytes, body: bytes) -> str:
    mac_key = bytes.fromhex(hashed(secret, f"placeholder {name}").partition(":")[2])
    message = b"\0".join(
        [_DOMAIN, name.encode("utf-8"), key.encode("utf-8"), hashlib.sha256(body).digest(), stored]
    )
    return _SCHEME + hmac.new(mac_key, message, hashlib.sha256).hexdigest()


def _stored(response: Response) -> bytes:
    """The response as sealed: its JSON without its seals and without where its bytes are kept."""
    return msgspec.json.encode(
        msgspec.structs.replace(response, sealed=_UNSET, base64=_UNSET, body_file=_UNSET)
    )


def sealed(response: Response, key: str, secrets: dict[str, str]) -> Response:
    """``response`` (as it is written, under ``key``) sealed for each placeholder of ``secrets``
    (``{placeholder: secret}``) it holds; the very object when it holds none."""
    if not secrets:
        return response
    stored, body = _stored(response), _body(response, None)
    seals = [
        f"{name} {_tag(name, secret, key, stored, body)}"
        for name, secret in secrets.items()
        if _held(name, stored, body)
    ]
    return msgspec.structs.replace(response, sealed=seals) if seals else response


def proven(
    response: Response, key: str, secrets: dict[str, str], side: bytes | None
) -> tuple[dict[str, str], list[str]]:
    """The placeholders of ``secrets`` that ``response`` holds and whose seal holds (``side``: the bytes of
    its side file, if it has one), as ``{placeholder: secret}``; and those it holds unproven."""
    if not secrets:
        return {}, []
    stored, body = _stored(response), _body(response, side)
    given = dict(seal.rpartition(" ")[::2] for seal in response.sealed or [] if isinstance(seal, str))
    good: dict[str, str] = {}
    unproven: list[str] = []
    for name, secret in secrets.items():
        if not _held(name, stored, body):
            continue
        if hmac.compare_digest(given.get(name, ""), _tag(name, secret, key, stored, body)):
            good[name] = secret
        else:
            unproven.append(name)
    return good, unproven
