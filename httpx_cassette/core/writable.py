"""What a recording may write: only what loading will read back.

A file is held at load to what an HTTP server could have sent (`httpx_cassette.model.served`). A mock
upstream (a 204 with a body, a 1xx as the final response, a body to HEAD) or a ``before_record_*`` hook
(a header given twice in two cases, a line break in a value) can hand a recording what no server sends;
written, it would break every later replay of the cassette. The same rules run before anything is
written, and a recording that breaks one is refused, naming the rule and what to change.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from msgspec import UNSET

from httpx_cassette.core.shown import Later
from httpx_cassette.errors import CassetteError
from httpx_cassette.model.cassette import Request, Response
from httpx_cassette.model.served import check_request, check_response

__all__ = ["writable_request", "writable_response"]


def writable_request(request: Request, cassette: Path, what: str | Later) -> None:
    """Raise `CassetteError` unless ``request`` (as it would be stored) is one a file may hold."""
    try:
        check_request(request)
    except msgspec.ValidationError as exc:
        raise _refused(cassette, what, exc, "the before_record_request hook") from None


def writable_response(response: Response, at: str, method: str, cassette: Path, what: str | Later) -> None:
    """Raise `CassetteError` unless ``response`` (as it would be stored at ``at``) is one a file may hold."""
    try:
        _typed(response, at)
        check_response(response, at, method.upper())
    except msgspec.ValidationError as exc:
        raise _refused(
            cassette, what, exc, "the upstream (a mock transport?) or the before_record_response hook"
        ) from None


def _typed(response: Response, at: str) -> None:
    """Every field but the body holds what its type says, as loading decodes it (offsets are numbers: the
    secret check does not read them); a hook may have put anything anywhere."""
    try:
        msgspec.convert(msgspec.to_builtins(msgspec.structs.replace(response, body=UNSET)), Response)
    except msgspec.ValidationError as exc:
        raise msgspec.ValidationError(str(exc).replace("`$", f"`{at}", 1)) from None
    except TypeError as exc:  # no JSON value at all (an object, a set of bytes)
        raise msgspec.ValidationError(f"{exc} - at `{at}`") from None


def _refused(cassette: Path, what: str | Later, exc: msgspec.ValidationError, source: str) -> CassetteError:
    return CassetteError(
        f"not recorded in {cassette}: {what} is not what an HTTP server sends, so the file could not be"
        f" read back: {exc}. Nothing was written; change {source} that produced it."
    )
