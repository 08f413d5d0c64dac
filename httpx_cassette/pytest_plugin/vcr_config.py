"""pytest-recording's ``vcr_config`` dict (vcrpy's ``use_cassette`` keywords) -> our cassette options.

Every key that has an equivalent is honoured, and httpx_cassette's own option names (``allow_secrets``,
``placeholders``, ``redact_json_paths``...) are accepted as they are; any other key warns, naming it,
so no setting is ignored in silence.

vcrpy's request filters (``filter_headers``, ``filter_query_parameters``,
``filter_post_data_parameters``) and ``before_record_request`` become one ``before_record_request``
hook over our `Request` that runs before keying, so a filtered request still matches its recording.
`request_options` builds it from every layer, ``vcr_config`` then the marker, as vcrpy chains them:
the filters of each layer, then the hooks. A marker's filter adds to the fixture's instead of
replacing it (pytest-recording replaces a key the marker repeats): what a suite keeps off disk stays
off it. ``match_on`` functions are handed vcrpy's request shape (`VcrRequestView`), in vcrpy's order.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
import pytest
from msgspec import UNSET

from httpx_cassette.config import FLAT
from httpx_cassette.core.redact import REDACTED
from httpx_cassette.core.secrets import is_hashed
from httpx_cassette.errors import CassetteError
from httpx_cassette.model.cassette import Request
from httpx_cassette.pytest_plugin.vcr_cassette import VcrRequestView

__all__ = ["VcrConfigWarning", "over_base", "post_filter", "query_filter", "request_options", "translate"]

RequestHook = Callable[[Request], Request | None]
# vcrpy keys whose job httpx_cassette always does, or that only concern YAML files: no warning.
_ALWAYS = {
    "decode_compressed_response": "responses are always stored decoded",
    "serializer": "cassettes are JSON directories",
    "path_transformer": "cassette paths follow pytest-recording's names",
}
_FILTERS = ("filter_headers", "filter_query_parameters", "filter_post_data_parameters")
_HOOKS = ("before_record_request", "before_record")  # vcrpy's name, and its older one
# Ours, that `request_options` builds from every layer (``redact_headers``: filter_headers' names too).
_CHAINED = (*_FILTERS, *_HOOKS, "redact_headers")


class VcrConfigWarning(pytest.PytestWarning):
    """A ``vcr_config`` or ``@pytest.mark.vcr`` key httpx_cassette does not honour."""


# -- vcrpy's filters over our `Request` ---------------------------------------------------------------

Rule = Any  # vcrpy's replacement: a value, None (removed), or a function of (key, value, request)


def _pairs(value: Iterable[Any], key: str) -> list[tuple[str, Rule]]:
    """vcrpy's filter lists: names (removed) or ``(name, replacement)`` pairs."""
    if isinstance(value, str | bytes):
        raise CassetteError(f"{key} takes a list, got the string {value!r}: write [{value!r}]")
    pairs: list[tuple[str, Rule]] = []
    for item in value:
        if isinstance(item, str):
            pairs.append((item, None))
        elif isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            pairs.append((item[0], item[1]))
        else:
            raise CassetteError(f"{key} takes names or (name, replacement) pairs, got {item!r}")
    return pairs


def _rules(pairs: list[tuple[str, Rule]]) -> dict[str, Rule]:
    return {name.lower(): rule for name, rule in pairs}


def _replaced(rule: Rule, name: str, value: Any, request: Request) -> Any:
    """What ``value`` becomes (None: removed). A value httpx_cassette already redacted (``REDACTED``,
    or a secret header's hash) stays as it is: its real value is not there to replace, and a recording
    or a converted vcrpy cassette holds that name so too, so the two key alike (``api_key=DUMMY``
    in a vcrpy cassette is converted to ``api_key=REDACTED``)."""
    if callable(rule):
        rule = rule(key=name, value=value, request=VcrRequestView(request, "passed"))
    if rule is None:
        return None
    return value if isinstance(value, str) and (value == REDACTED or is_hashed(value)) else rule


def _filtered(
    items: list[tuple[str, str]], rules: dict[str, Rule], request: Request
) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    for name, value in items:
        new = _replaced(rules[name.lower()], name, value, request) if name.lower() in rules else value
        if new is not None:
            kept.append((name, str(new)))
    return kept


def header_filter(pairs: list[tuple[str, Rule]]) -> RequestHook:
    """vcrpy's ``filter_headers`` replacements, on the headers a recording keeps (the others, and
    credentials, are never written)."""
    rules = _rules(pairs)

    def hook(request: Request) -> Request:
        if not any(name.lower() in rules for name in request.headers):
            return request
        kept = _filtered(list(request.headers.items()), rules, request)
        return msgspec.structs.replace(request, headers=dict(kept))

    return hook


def query_filter(pairs: list[tuple[str, Rule]]) -> RequestHook:
    """vcrpy's ``filter_query_parameters``."""
    rules = _rules(pairs)

    def hook(request: Request) -> Request:
        url = urlsplit(request.url)
        items = parse_qsl(url.query, keep_blank_values=True)
        if not any(name.lower() in rules for name, _ in items):
            return request  # the URL as it was, its encoding too
        query = urlencode(_filtered(items, rules, request))
        return msgspec.structs.replace(request, url=urlunsplit(url._replace(query=query)))

    return hook


def post_filter(pairs: list[tuple[str, Rule]]) -> RequestHook:
    """vcrpy's ``filter_post_data_parameters``: top-level JSON fields and form fields."""
    rules = dict(pairs)  # JSON field names are exact, as in vcrpy
    fields = _rules(pairs)  # a form's in any case

    def hook(request: Request) -> Request:
        if isinstance(request.body, dict):
            if not rules.keys() & request.body.keys():
                return request
            body = {}
            for name, value in request.body.items():
                new = _replaced(rules[name], name, value, request) if name in rules else value
                if new is not None:
                    body[name] = new
            return msgspec.structs.replace(request, body=body)
        if request.text is not UNSET and "=" in request.text:
            items = parse_qsl(request.text, keep_blank_values=True)
            if not any(name.lower() in fields for name, _ in items):
                return request
            return msgspec.structs.replace(request, text=urlencode(_filtered(items, fields, request)))
        return request

    return hook


def _chain(hooks: list[RequestHook]) -> RequestHook:
    if len(hooks) == 1:
        return hooks[0]

    def hook(request: Request) -> Request | None:
        current: Request | None = request
        for step in hooks:
            if current is None:
                return None
            current = step(current)
        return current

    hook.__qualname__ = " then ".join(getattr(h, "__qualname__", repr(h)) for h in hooks)
    return hook


def _layer_filters(layer: Mapping[str, Any]) -> tuple[list[RequestHook], list[str]]:
    """One layer's filters in vcrpy's order (headers, query, body), and the header names it removes
    (kept off disk as `redact_headers`: in responses too)."""
    hooks: list[RequestHook] = []
    removed: list[str] = []
    if "filter_headers" in layer:
        pairs = _pairs(layer["filter_headers"], "filter_headers")
        removed = [name for name, rule in pairs if rule is None]
        if replaced := [(name, rule) for name, rule in pairs if rule is not None]:
            hooks.append(header_filter(replaced))
    if "filter_query_parameters" in layer:
        hooks.append(query_filter(_pairs(layer["filter_query_parameters"], "filter_query_parameters")))
    if "filter_post_data_parameters" in layer:
        pairs = _pairs(layer["filter_post_data_parameters"], "filter_post_data_parameters")
        hooks.append(post_filter(pairs))
    ours = layer.get("redact_headers", ())
    if isinstance(ours, str | bytes):
        raise CassetteError(f"redact_headers takes a list of names, got {ours!r}: write [{ours!r}]")
    return hooks, [*removed, *ours]


def _layer_hooks(layer: Mapping[str, Any]) -> list[RequestHook]:
    """A layer's ``before_record_request``: one function, or several (vcrpy takes a list)."""
    hook = layer.get("before_record_request", layer.get("before_record"))
    if hook is None:
        return []
    hooks = list(hook) if isinstance(hook, list | tuple) else [hook]
    for each in hooks:
        if not callable(each):
            raise CassetteError(f"before_record_request takes a function or a list of them, got {each!r}")
    return hooks


def request_options(layers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``before_record_request`` and ``redact_headers`` from vcrpy's filters and hooks of every layer
    (``vcr_config``, then the marker's keywords): the filters of each layer in turn, then their
    hooks, as vcrpy chains them; a layer adds to the ones before it, it never replaces them."""
    filters: list[RequestHook] = []
    headers: list[str] = []
    for layer in layers:
        hooks, names = _layer_filters(layer)
        filters += hooks
        headers += [name for name in names if name.lower() not in {h.lower() for h in headers}]
    chain = filters + [hook for layer in layers for hook in _layer_hooks(layer)]
    options: dict[str, Any] = {}
    if chain:
        options["before_record_request"] = _chain(chain)
    if headers:
        options["redact_headers"] = tuple(headers)
    return options


def over_base(marker: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """A ``vcr``-marked test's options over the ``cassette_config`` fixture's (``base``): its request
    hooks run after the fixture's, its header names add to the fixture's; neither replaces them (what
    the suite keeps off disk stays off)."""
    merged = dict(marker)
    hooks = [
        hook for hook in (base.get("before_record_request"), marker.get("before_record_request")) if hook
    ]
    if hooks:
        merged["before_record_request"] = _chain(hooks)
    names = [*base.get("redact_headers", ()), *marker.get("redact_headers", ())]
    if names:
        merged["redact_headers"] = tuple(dict.fromkeys(names))
    return merged


# -- the other keys -------------------------------------------------------------------------------------


def vcr_matcher(function: Callable[..., Any]) -> Callable[[Request, Request], Any]:
    """A vcrpy ``match_on`` function as ours: handed (the request sent, the recorded one) as
    `VcrRequestView`\\ s, vcrpy's order and names; its verdict is read as vcrpy reads it (see
    `httpx_cassette.core.hooks.refusing_matcher`)."""

    @functools.wraps(function)
    def matcher(recorded: Request, incoming: Request) -> Any:
        return function(VcrRequestView(incoming, "passed"), VcrRequestView(recorded, "replayed"))

    return matcher


def _match_on(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str | bytes):
        return (value,)  # our config's check says how to write it
    return tuple(
        "body" if item == "raw_body" else vcr_matcher(item) if callable(item) else item for item in value
    )


# vcr_config key -> (our option, how the value converts); the filters become request hooks instead.
_RENAMED: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "record_mode": ("mode", str),
    "before_record_response": ("before_record_response", lambda hook: hook),
    "match_on": ("match_on", _match_on),
    "ignore_hosts": ("ignore_hosts", tuple),
    "ignore_localhost": ("ignore_localhost", bool),
    "allow_playback_repeats": ("strict_repeats", lambda repeats: not repeats),
}


_MARKER_ONLY = ("unused", "caught_errors")


def _unknown(name: str, value: Any, source: str) -> None:
    text = json.dumps(value, default=repr)
    warnings.warn(
        VcrConfigWarning(
            f"{source}: {name}={text} has no httpx_cassette equivalent and is ignored. httpx_cassette's"
            " own options (allow_secrets, placeholders, redact_json_paths...) are taken here too, as"
            " by the cassette_config fixture, and a marker's unused= and caught_errors= as by"
            " @pytest.mark.cassette; see docs/guides/from-vcrpy.md for the vcrpy names that are honoured"
        ),
        stacklevel=3,
    )


def translate(config: Mapping[str, Any], source: str, *, marker: bool = False) -> dict[str, Any]:
    """Our flat options (``mode`` may be a vcrpy name) for a ``vcr_config`` / marker's keywords, but
    the filters and request hooks: `request_options` builds those from every layer at once. A
    ``marker``'s take what ``@pytest.mark.cassette`` takes beyond them too (``unused``,
    ``caught_errors``)."""
    options: dict[str, Any] = {}
    for name, value in config.items():
        if name in _RENAMED:
            option, convert = _RENAMED[name]
            options[option] = convert(value)
        elif name in _CHAINED or name in _ALWAYS:
            continue
        elif name in FLAT or (marker and name in _MARKER_ONLY):  # ours, as cassette_config or the
            options[name] = value  # cassette marker takes it
        else:
            _unknown(name, value, source)
    return options
