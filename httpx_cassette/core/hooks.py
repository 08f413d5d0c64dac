"""User functions a cassette calls: ``before_record_request`` / ``before_record_response`` hooks and
``match_on`` functions. They take and return our model types (`Request`, `Response`).

A function that raises is reported as a `CassetteError` naming it and the request, so a failing
hook reads as what it is instead of as an error of the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from httpx_cassette.config import Matcher
from httpx_cassette.errors import CassetteError
from httpx_cassette.model.cassette import Request

__all__ = ["call_hook", "refusing_matcher"]

T = TypeVar("T")


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


def call_hook(kind: str, hook: Callable[[T], T | None] | None, value: T, about: str) -> T | None:
    """``hook(value)``: the changed value, or None (leave it out); ``value`` itself without a hook."""
    if hook is None:
        return value
    try:
        result = hook(value)
    except Exception as exc:
        raise CassetteError(
            f"{kind} hook {_name(hook)} raised {type(exc).__name__}: {exc} (for {about}); fix the hook,"
            " it runs on every request of the cassette"
        ) from exc
    if result is not None and not isinstance(result, type(value)):
        raise CassetteError(
            f"{kind} hook {_name(hook)} returned {type(result).__name__} for {about}: return the"
            f" {type(value).__name__} it was given (changed or not), or None to leave it out"
        )
    return result


def refusing_matcher(matchers: tuple[Matcher, ...], recorded: Request, incoming: Request) -> str | None:
    """The name of the first ``match_on`` function that says ``recorded`` does not match; else None."""
    for matcher in matchers:
        if isinstance(matcher, str):
            continue
        try:
            matched = matcher(recorded, incoming)
        except Exception as exc:
            raise CassetteError(
                f"match_on function {_name(matcher)} raised {type(exc).__name__}: {exc}"
                f" (comparing {incoming.method} {incoming.url}); fix the function"
            ) from exc
        if not matched:
            return _name(matcher)
    return None
