"""`CassetteConfig`: every setting of a cassette, defined once.

`CassetteTransport`, `use_cassette`, the pytest marker and the plugin's ``cassette_config`` fixture all
take a `CassetteConfig` (``config=``) and the same flat keywords as overrides (``mode=``,
``ignore_json_paths=``, ...; `FLAT` maps each to its place), so every way in reads one definition::

    config = CassetteConfig(match=MatchConfig(ignore_json_paths=("metadata.trace_id",)))
    CassetteTransport("cassettes/chat", config=config, replay_timing="recorded")

Values are checked when a config is built: an unknown mode, timing or format, and a string where a
list of names is expected (``redact_json_paths="user"`` would otherwise be read letter by letter),
raise at once, before any request is made.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypedDict, get_args

import msgspec

from httpx_cassette.errors import CassetteError
from httpx_cassette.model.cassette import FileFormat, Request, Response

__all__ = [
    "FLAT",
    "SESSION_ONLY",
    "CassetteConfig",
    "FileFormat",
    "IgnoreRule",
    "MatchConfig",
    "Matcher",
    "Mode",
    "Options",
    "Overrides",
    "RedactConfig",
    "ReplayChunks",
    "ReplayConfig",
    "ReplayTiming",
    "StorageConfig",
    "parse_age",
]

Mode = Literal["replay", "record", "record-missing", "live"]
# A `match_on` entry: a part's name, or a function (recorded, incoming) -> whether they match.
Matcher = str | Callable[["Request", "Request"], bool]
MATCH_PARTS = ("method", "path", "query", "body", "headers", "host")
ReplayTiming = Literal["instant", "recorded"] | float  # a float: recorded pacing, sped up that many times
ReplayChunks = Literal["auto", "event"]  # an instant stream as few chunks, or one chunk per event
MODES: tuple[Mode, ...] = get_args(Mode)
FILE_FORMATS: tuple[FileFormat, ...] = get_args(FileFormat)


def _names(option: str, value: Iterable[str] | str) -> tuple[str, ...]:
    """An iterable option as a tuple; a bare string is a mistake that would iterate letter by letter."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{option} takes a list of names, got the string {value!r}: write [{value!r}]")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{option} takes names (str), got {item!r}")
    return items


def _matchers(value: Iterable[Matcher] | str) -> tuple[Matcher, ...]:
    """``match_on`` checked: part names (vcrpy's ``uri`` and ``scheme`` too) and callables."""
    if isinstance(value, str | bytes):
        raise TypeError(f"match_on takes a list, got the string {value!r}: write [{value!r}]")
    aliases = {"uri": ("host", "path", "query"), "scheme": ("host",), "port": ("host",)}
    items: list[Matcher] = []
    for item in value:
        if isinstance(item, str) and item in aliases:
            items += [part for part in aliases[item] if part not in items]
        elif callable(item) or item in MATCH_PARTS:
            items.append(item)
        else:
            raise CassetteError(
                f"unknown match_on entry {item!r}: use {', '.join(MATCH_PARTS)} or a function"
            )
    return tuple(items)


class MatchConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What a request's key depends on beyond the defaults (see `httpx_cassette.key_of`).

    ``ignore_json_paths``: body fields left out (``metadata.trace_id``, ``messages[*].id``);
    ``match_headers``: request headers that count (stored as a hash, never in clear, when they look
    secret); ``include_host``: scheme, host and port count.
    """

    include_host: bool = False
    ignore_json_paths: tuple[str, ...] = ()
    match_headers: tuple[str, ...] = ()
    match_on: tuple[Matcher, ...] = ()  # empty: the whole key; else only these parts, and these functions

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(
            self, "ignore_json_paths", _names("ignore_json_paths", self.ignore_json_paths)
        )
        headers = _names("match_headers", self.match_headers)
        msgspec.structs.force_setattr(self, "match_headers", tuple(h.lower() for h in headers))
        msgspec.structs.force_setattr(self, "match_on", _matchers(self.match_on))


class RedactConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What is kept off disk beyond the defaults, and what the secret scanner lets through.

    ``json_paths``: body fields stored as ``"REDACTED"``; ``headers``: headers never stored;
    ``placeholders``: ``{"<ACCOUNT>": secret}``, written as the placeholder and put back on replay
    where the recording's seal proves it wrote it (`httpx_cassette.core.seal`); ``restore_unsealed``:
    put them back without that proof too (values a pull request may read: a fake value CI replays
    with, or files recorded before seals); ``allow_secrets``: values the scanner would refuse that are
    not secrets (exact strings or compiled patterns matching them whole).
    """

    json_paths: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    placeholders: Mapping[str, str] = msgspec.field(default_factory=dict)
    restore_unsealed: bool = False
    allow_secrets: tuple[str | re.Pattern[str], ...] = ()

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "json_paths", _names("redact_json_paths", self.json_paths))
        msgspec.structs.force_setattr(self, "headers", _names("redact_headers", self.headers))
        if self.placeholders is None:
            msgspec.structs.force_setattr(self, "placeholders", {})
        elif not isinstance(self.placeholders, Mapping):
            raise TypeError(
                f"placeholders takes a mapping of placeholder -> secret, got {self.placeholders!r}"
            )
        if isinstance(self.allow_secrets, str | bytes):
            raise TypeError(f"allow_secrets takes a list, got the string {self.allow_secrets!r}")
        msgspec.structs.force_setattr(self, "allow_secrets", tuple(self.allow_secrets))


class ReplayConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How recordings are served: ``timing`` ``"instant"``, ``"recorded"`` or a speed factor;
    ``strict_repeats``: a request made more often than recorded is a miss instead of repeating the last;
    ``chunks``: ``"auto"`` serves an instant stream as one chunk and a paced one event by event,
    ``"event"`` serves every stream one chunk per event."""

    timing: ReplayTiming = "instant"
    strict_repeats: bool = False
    chunks: ReplayChunks = "auto"

    def __post_init__(self) -> None:
        timing = self.timing
        number = isinstance(timing, int | float) and not isinstance(timing, bool)
        if not (timing in ("instant", "recorded") or (number and float(timing) > 0)):
            raise CassetteError(
                f"unknown replay_timing {timing!r}: use 'instant', 'recorded', or a speed factor above 0"
            )
        if self.chunks not in ("auto", "event"):
            raise CassetteError(f"unknown replay_chunks {self.chunks!r}: use 'auto' or 'event'")


class StorageConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How a cassette directory is written: ``format`` of new files (``"ours"`` or ``"llama-stack"``),
    ``max_inline_bytes`` before a binary body goes to a side file, ``scope`` (a test id) selecting and
    marking responses."""

    format: FileFormat = "ours"
    max_inline_bytes: int = 64 * 1024
    scope: str | None = None

    def __post_init__(self) -> None:
        if self.format not in FILE_FORMATS:
            raise CassetteError(f"unknown format {self.format!r}: use one of {', '.join(FILE_FORMATS)}")
        if isinstance(self.max_inline_bytes, bool) or not isinstance(self.max_inline_bytes, int):
            raise TypeError(f"max_inline_bytes takes an int, got {self.max_inline_bytes!r}")


class IgnoreRule(msgspec.Struct, frozen=True, kw_only=True):
    """Traffic that is not the test's business (telemetry): matched by method, host and path globs.

    A matching request is never recorded or replayed. In live and record modes it goes out as usual;
    in replay ``answer="empty"`` answers it locally with an empty 204, ``answer="pass"`` lets it out.
    As text (ini files, markers): ``"POST api.openai.com /v1/traces/*"``, optionally ending in
    ``empty`` or ``pass``.
    """

    method: str = "*"
    host: str = "*"
    path: str = "*"
    answer: Literal["empty", "pass"] = "empty"

    def __post_init__(self) -> None:
        if self.answer not in ("empty", "pass"):
            raise CassetteError(f"ignore rule answer {self.answer!r}: use 'empty' or 'pass'")

    @classmethod
    def parse(cls, text: str) -> IgnoreRule:
        """A rule from ``"METHOD HOST PATH [empty|pass]"``."""
        words = text.split()
        if len(words) not in (3, 4):
            raise CassetteError(
                f"ignore rule {text!r}: write METHOD HOST PATH [empty|pass],"
                " e.g. 'POST api.openai.com /v1/traces/*'"
            )
        method, host, path, *answer = words
        kind = answer[0] if answer else "empty"
        return cls(method=method, host=host, path=path, answer=kind)  # type: ignore[arg-type]


def _rules(value: Iterable[IgnoreRule | str]) -> tuple[IgnoreRule, ...]:
    if isinstance(value, str | bytes | IgnoreRule):
        raise TypeError(f"ignore takes a list of rules, got {value!r}: write [{value!r}]")
    rules = tuple(IgnoreRule.parse(rule) if isinstance(rule, str) else rule for rule in value)
    for rule in rules:
        if not isinstance(rule, IgnoreRule):
            raise TypeError(f"ignore takes IgnoreRule objects or 'METHOD HOST PATH' strings, got {rule!r}")
    return rules


class CassetteConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of a cassette. ``mode`` None means ``$HTTPX_CASSETTE_MODE``, else replay.

    ``ignore_hosts`` / ``ignore_localhost``: requests that `use_cassette` and the plugin let through
    untouched (a `CassetteTransport` under a client serves whatever that client sends).
    ``ignore``: `IgnoreRule`\\ s for telemetry and other traffic never recorded; ``ignore_defaults``:
    also the known telemetry endpoints of `httpx_cassette.core.ignore.TELEMETRY` (on by default).
    """

    mode: Mode | None = None
    match: MatchConfig = MatchConfig()
    redact: RedactConfig = RedactConfig()
    replay: ReplayConfig = ReplayConfig()
    storage: StorageConfig = StorageConfig()
    ignore_hosts: tuple[str, ...] = ()
    ignore_localhost: bool = False
    before_record_request: Callable[[Request], Request | None] | None = None
    before_record_response: Callable[[Response], Response | None] | None = None
    max_age: float | str | None = None  # seconds (or "90d", "12h"...): older recordings warn in replay
    strict_age: bool = False  # an expired recording fails instead of warning
    ignore: tuple[IgnoreRule, ...] = ()
    ignore_defaults: bool = True

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise CassetteError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        msgspec.structs.force_setattr(self, "ignore_hosts", _names("ignore_hosts", self.ignore_hosts))
        if self.max_age is not None:
            msgspec.structs.force_setattr(self, "max_age", parse_age(self.max_age))
        msgspec.structs.force_setattr(self, "ignore", _rules(self.ignore))

    def override(self, **flat: object) -> CassetteConfig:
        """This config with flat keywords (`FLAT`'s names) replacing what they name."""
        if not flat:
            return self
        unknown = sorted(set(flat) - set(FLAT))
        if unknown:
            raise TypeError(f"unknown cassette option {unknown[0]!r}; the options are {', '.join(FLAT)}")
        top: dict[str, Any] = {}
        sections: dict[str, dict[str, Any]] = {}
        for name, value in flat.items():
            section, field = FLAT[name]
            if section:
                sections.setdefault(section, {})[field] = value
            else:
                top[field] = value
        for section, changes in sections.items():
            top[section] = msgspec.structs.replace(getattr(self, section), **changes)
        return msgspec.structs.replace(self, **top)

    @classmethod
    def of(
        cls,
        value: CassetteConfig | Mapping[str, object] | None = None,
        *,
        for_transport: bool = False,
        **flat: object,
    ) -> CassetteConfig:
        """A config from a `CassetteConfig`, a dict of flat keywords, or None, with ``flat`` on top.

        ``for_transport``: the keywords were given to a `CassetteTransport`, which refuses those that
        choose which requests reach a cassette (`SESSION_ONLY`): it serves every request its client
        sends, so they would be ignored there."""
        if for_transport:
            _refuse_session_only(flat)
        if value is None:
            base = cls()
        elif isinstance(value, CassetteConfig):
            base = value
        elif isinstance(value, Mapping):
            base = cls().override(**dict(value))
        else:
            raise TypeError(f"config takes a CassetteConfig or a dict of options, got {value!r}")
        return base.override(**flat)


# The options that choose which requests reach a cassette: `use_cassette` and the pytest plugin act on them.
SESSION_ONLY = ("ignore_hosts", "ignore_localhost", "ignore", "ignore_defaults")


def _refuse_session_only(flat: Mapping[str, object]) -> None:
    given = [name for name in SESSION_ONLY if name in flat]
    if given:
        name = given[0]
        raise TypeError(
            f"CassetteTransport does not take {name}: a transport serves every request of the client it is"
            f" under, so it would be ignored; use use_cassette(path, {name}=...) or the pytest marker, which"
            " see every request and let those through"
        )


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(value: float | str) -> float:
    """An age in seconds from a number of seconds or a text like ``"90d"``, ``"12h"``, ``"30m"``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", value) if isinstance(value, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise CassetteError(
            f"max_age {value!r} is not an age: write seconds, or a number and s, m, h, d or w ('90d')"
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


# Each flat keyword -> (section of `CassetteConfig`, or "" for a top-level field; field name).
FLAT: dict[str, tuple[str, str]] = {
    "mode": ("", "mode"),
    "include_host": ("match", "include_host"),
    "ignore_json_paths": ("match", "ignore_json_paths"),
    "match_headers": ("match", "match_headers"),
    "strict_repeats": ("replay", "strict_repeats"),
    "replay_timing": ("replay", "timing"),
    "replay_chunks": ("replay", "chunks"),
    "max_inline_bytes": ("storage", "max_inline_bytes"),
    "redact_json_paths": ("redact", "json_paths"),
    "redact_headers": ("redact", "headers"),
    "placeholders": ("redact", "placeholders"),
    "restore_unsealed": ("redact", "restore_unsealed"),
    "allow_secrets": ("redact", "allow_secrets"),
    "scope": ("storage", "scope"),
    "format": ("storage", "format"),
    "ignore_hosts": ("", "ignore_hosts"),
    "ignore_localhost": ("", "ignore_localhost"),
    "match_on": ("match", "match_on"),
    "before_record_request": ("", "before_record_request"),
    "before_record_response": ("", "before_record_response"),
    "max_age": ("", "max_age"),
    "strict_age": ("", "strict_age"),
    "ignore": ("", "ignore"),
    "ignore_defaults": ("", "ignore_defaults"),
}


class Options(TypedDict, total=False):
    """The flat keywords but ``mode``: ``**overrides`` of signatures that take ``mode`` as a parameter."""

    include_host: bool
    ignore_json_paths: Iterable[str]
    match_headers: Iterable[str]
    strict_repeats: bool
    replay_timing: ReplayTiming
    replay_chunks: ReplayChunks
    max_inline_bytes: int
    redact_json_paths: Iterable[str]
    redact_headers: Iterable[str]
    placeholders: Mapping[str, str] | None
    restore_unsealed: bool
    allow_secrets: Iterable[str | re.Pattern[str]]
    scope: str | None
    format: FileFormat
    ignore_hosts: Iterable[str]
    ignore_localhost: bool
    match_on: Iterable[Matcher]
    before_record_request: Callable[[Request], Request | None] | None
    before_record_response: Callable[[Response], Response | None] | None
    max_age: float | str | None
    strict_age: bool
    ignore: Iterable[IgnoreRule | str]
    ignore_defaults: bool


class Overrides(Options, total=False):
    """The flat keywords, typed, for ``**overrides`` signatures (a test checks it matches `FLAT`)."""

    mode: Mode | None
