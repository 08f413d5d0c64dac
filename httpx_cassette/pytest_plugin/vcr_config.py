"""pytest-recording's ``vcr_config`` dict (vcrpy's ``use_cassette`` keywords) -> our cassette options.

Every key that has an equivalent is honoured; one we have no use for warns, naming it, so no
setting is ignored in silence. vcrpy's filters become a ``before_record_request`` hook over our
`Request` that runs before keying, so a filtered request still matches its recording.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
import pytest
from msgspec import UNSET

from httpx_cassette.model.cassette import Request

__all__ = ["VcrConfigWarning", "translate"]

RequestHook = Callable[[Request], Request | None]
# vcrpy keys whose job httpx_cassette always does, or that only concern YAML files: no warning.
_ALWAYS = {
    "decode_compressed_response": "responses are always stored decoded",
    "serializer": "cassettes are JSON directories",
    "path_transformer": "cassette paths follow pytest-recording's names",
}


class VcrConfigWarning(pytest.PytestWarning):
    """A ``vcr_config`` or ``@pytest.mark.vcr`` key httpx_cassette does not honour."""


def _pairs(value: Iterable[Any]) -> list[tuple[str, Any]]:
    """vcrpy's filter lists: names (removed) or ``(name, replacement)`` pairs (None: removed)."""
    return [(item, None) if isinstance(item, str) else (str(item[0]), item[1]) for item in value]


def _filtered(items: list[tuple[str, str]], pairs: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    rules = {name.lower(): replacement for name, replacement in pairs}
    kept: list[tuple[str, str]] = []
    for name, value in items:
        if name.lower() not in rules:
            kept.append((name, value))
        elif rules[name.lower()] is not None:
            kept.append((name, str(rules[name.lower()])))
    return kept


def query_filter(pairs: list[tuple[str, Any]]) -> RequestHook:
    """vcrpy's ``filter_query_parameters``."""

    def hook(request: Request) -> Request:
        url = urlsplit(request.url)
        query = urlencode(_filtered(parse_qsl(url.query, keep_blank_values=True), pairs))
        return msgspec.structs.replace(request, url=urlunsplit(url._replace(query=query)))

    return hook


def post_filter(pairs: list[tuple[str, Any]]) -> RequestHook:
    """vcrpy's ``filter_post_data_parameters``: top-level JSON fields and form fields."""
    rules = {name: replacement for name, replacement in pairs}

    def hook(request: Request) -> Request:
        if isinstance(request.body, dict):
            dropped = {k for k, replacement in rules.items() if replacement is None}
            body = {k: rules.get(k, v) for k, v in request.body.items() if k not in dropped}
            return msgspec.structs.replace(request, body=body)
        if request.text is not UNSET and "=" in request.text:
            fields = _filtered(parse_qsl(request.text, keep_blank_values=True), pairs)
            return msgspec.structs.replace(request, text=urlencode(fields))
        return request

    return hook


def _chain(hooks: list[RequestHook]) -> RequestHook:
    def hook(request: Request) -> Request | None:
        current: Request | None = request
        for step in hooks:
            if current is None:
                return None
            current = step(current)
        return current

    hook.__qualname__ = " then ".join(getattr(h, "__qualname__", repr(h)) for h in hooks)
    return hook


def _match_on(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple("body" if item == "raw_body" else item for item in value)


# vcr_config key -> (our option, how the value converts); the filters become request hooks instead.
_RENAMED: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "record_mode": ("mode", str),
    "filter_headers": ("redact_headers", lambda value: tuple(n for n, _ in _pairs(value))),
    "before_record_response": ("before_record_response", lambda hook: hook),
    "match_on": ("match_on", _match_on),
    "ignore_hosts": ("ignore_hosts", tuple),
    "ignore_localhost": ("ignore_localhost", bool),
    "allow_playback_repeats": ("strict_repeats", lambda repeats: not repeats),
}
_HOOKS: dict[str, Callable[[Any], RequestHook]] = {
    "filter_query_parameters": lambda value: query_filter(_pairs(value)),
    "filter_post_data_parameters": lambda value: post_filter(_pairs(value)),
    "before_record_request": lambda hook: hook,  # after the filters, as vcrpy runs it
}


def _unknown(name: str, value: Any, source: str) -> None:
    text = json.dumps(value, default=repr)
    warnings.warn(
        VcrConfigWarning(
            f"{source}: {name}={text} has no httpx_cassette equivalent and is ignored;"
            " see docs/guides/from-vcrpy.md for the names that are honoured"
        ),
        stacklevel=3,
    )


def translate(config: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Our flat options (``mode`` may be a vcrpy name) for a ``vcr_config`` / marker's keywords."""
    options: dict[str, Any] = {}
    hooks = [_HOOKS[name](config[name]) for name in _HOOKS if name in config]
    for name, value in config.items():
        if name in _RENAMED:
            option, convert = _RENAMED[name]
            options[option] = convert(value)
        elif name not in _HOOKS and name not in _ALWAYS:
            _unknown(name, value, source)
    if hooks:
        options["before_record_request"] = hooks[0] if len(hooks) == 1 else _chain(hooks)
    return options
