"""User functions a cassette calls: ``before_record_request`` / ``before_record_response`` hooks and
``match_on`` functions. They take and return our model types (`Request`, `Response`).

A function that raises is reported as a `CassetteError` naming it and the request, so a failing
hook reads as what it is instead of as an error of the code under test. ``match_on`` functions follow
vcrpy's matcher protocol (`refusing_matcher`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from httpx_cassette.config import Matcher
from httpx_cassette.core.key import same_request
from httpx_cassette.core.shown import Later, shown
from httpx_cassette.errors import CassetteError, CassetteMiss
from httpx_cassette.model.cassette import Request

__all__ = ["call_hook", "refusing_matcher"]

T = TypeVar("T")
_REASON_CHARS = 300  # of an AssertionError's message, in a miss's first line
_PROTOCOL = "None or a true value for a match, False or an AssertionError for a mismatch (vcrpy's protocol)"


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or repr(function)


def call_hook(kind: str, hook: Callable[[T], T | None] | None, value: T, about: str | Later) -> T | None:
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


def _verdict(matcher: Callable[[Request, Request], Any], recorded: Request, incoming: Request) -> str | None:
    """None when ``matcher`` says the two match; else why not ("" when it gave no reason). As vcrpy
    evaluates a matcher: None or a true value is a match; False (any false value), or an
    AssertionError (its message is the reason), is none; any other exception is a bug in the function."""
    try:
        result = matcher(recorded, incoming)
        matched = result is None or bool(result)
    except AssertionError as exc:
        return " ".join(str(exc).split())[:_REASON_CHARS]
    except Exception as exc:
        raise CassetteError(
            f"match_on function {_name(matcher)} raised {type(exc).__name__}: {exc}"
            f" (comparing {incoming.method} {incoming.url}); fix the function: it returns {_PROTOCOL}"
        ) from exc
    return None if matched else ""


def refusing_matcher(
    matchers: tuple[Matcher, ...],
    recorded: Request,
    incoming: Request,
    file: object = None,
    *,
    identical_is_a_miss: bool = False,
) -> str | None:
    """The first ``match_on`` function that says ``recorded`` (of ``file``) does not match ``incoming``,
    named with its reason (``same_url (assert '/a' == '/b')``); else None.

    In replay (``identical_is_a_miss``), a function that refuses a recording identical to the request is
    the reason itself, not a missing recording (re-recording would be refused again): that is a
    `CassetteMiss` naming the function and the file, with no advice to record."""
    for matcher in matchers:
        if isinstance(matcher, str):
            continue
        reason = _verdict(matcher, recorded, incoming)
        if reason is None:
            continue
        name = _name(matcher)
        if identical_is_a_miss and same_request(recorded, incoming):
            said = f" ({reason})" if reason else ""
            raise CassetteMiss(
                shown(
                    f"the match_on function {name} refused the recording of {incoming.method}"
                    f" {incoming.url} in {file}{said}, although it is identical to the request: the"
                    " function is the reason, and re-recording would be refused the same way. Fix"
                    f" {name}: it returns {_PROTOCOL}"
                )
            )
        return f"{name} ({reason})" if reason else name
    return None
