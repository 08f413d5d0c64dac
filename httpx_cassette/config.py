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
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict, get_args

import msgspec

from httpx_cassette.errors import CassetteError

__all__ = [
    "FLAT",
    "CassetteConfig",
    "FileFormat",
    "MatchConfig",
    "Mode",
    "Overrides",
    "RedactConfig",
    "ReplayConfig",
    "ReplayTiming",
    "StorageConfig",
]

Mode = Literal["replay", "record", "record-missing", "live"]
ReplayTiming = Literal["instant", "recorded"] | float  # a float: recorded pacing, sped up that many times
FileFormat = Literal["ours", "llama-stack"]  # the file formats a cassette directory may hold
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


class MatchConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What a request's key depends on beyond the defaults (see `httpx_cassette.key_of`).

    ``ignore_json_paths``: body fields left out (``metadata.trace_id``, ``messages[*].id``);
    ``match_headers``: request headers that count (stored as a hash, never in clear, when they look
    secret); ``include_host``: scheme, host and port count.
    """

    include_host: bool = False
    ignore_json_paths: tuple[str, ...] = ()
    match_headers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(
            self, "ignore_json_paths", _names("ignore_json_paths", self.ignore_json_paths)
        )
        headers = _names("match_headers", self.match_headers)
        msgspec.structs.force_setattr(self, "match_headers", tuple(h.lower() for h in headers))


class RedactConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What is kept off disk beyond the defaults, and what the secret scanner lets through.

    ``json_paths``: body fields stored as ``"REDACTED"``; ``headers``: headers never stored;
    ``placeholders``: ``{"<ACCOUNT>": secret}``, written as the placeholder and put back on replay;
    ``allow_secrets``: values the scanner would refuse that are not secrets (exact strings or
    compiled patterns matching them whole).
    """

    json_paths: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    placeholders: Mapping[str, str] = msgspec.field(default_factory=dict)
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
    ``strict_repeats``: a request made more often than recorded is a miss instead of repeating the last."""

    timing: ReplayTiming = "instant"
    strict_repeats: bool = False

    def __post_init__(self) -> None:
        timing = self.timing
        number = isinstance(timing, int | float) and not isinstance(timing, bool)
        if not (timing in ("instant", "recorded") or (number and float(timing) > 0)):
            raise CassetteError(
                f"unknown replay_timing {timing!r}: use 'instant', 'recorded', or a speed factor above 0"
            )


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


class CassetteConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting of a cassette. ``mode`` None means ``$HTTPX_CASSETTE_MODE``, else replay.

    ``ignore_hosts`` / ``ignore_localhost``: requests that `use_cassette` and the plugin let through
    untouched (a `CassetteTransport` under a client serves whatever that client sends).
    """

    mode: Mode | None = None
    match: MatchConfig = MatchConfig()
    redact: RedactConfig = RedactConfig()
    replay: ReplayConfig = ReplayConfig()
    storage: StorageConfig = StorageConfig()
    ignore_hosts: tuple[str, ...] = ()
    ignore_localhost: bool = False

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise CassetteError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        msgspec.structs.force_setattr(self, "ignore_hosts", _names("ignore_hosts", self.ignore_hosts))

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
    def of(cls, value: CassetteConfig | Mapping[str, object] | None = None, **flat: object) -> CassetteConfig:
        """A config from a `CassetteConfig`, a dict of flat keywords, or None, with ``flat`` on top."""
        if value is None:
            base = cls()
        elif isinstance(value, CassetteConfig):
            base = value
        elif isinstance(value, Mapping):
            base = cls().override(**dict(value))
        else:
            raise TypeError(f"config takes a CassetteConfig or a dict of options, got {value!r}")
        return base.override(**flat)


# Each flat keyword -> (section of `CassetteConfig`, or "" for a top-level field; field name).
FLAT: dict[str, tuple[str, str]] = {
    "mode": ("", "mode"),
    "include_host": ("match", "include_host"),
    "ignore_json_paths": ("match", "ignore_json_paths"),
    "match_headers": ("match", "match_headers"),
    "strict_repeats": ("replay", "strict_repeats"),
    "replay_timing": ("replay", "timing"),
    "max_inline_bytes": ("storage", "max_inline_bytes"),
    "redact_json_paths": ("redact", "json_paths"),
    "redact_headers": ("redact", "headers"),
    "placeholders": ("redact", "placeholders"),
    "allow_secrets": ("redact", "allow_secrets"),
    "scope": ("storage", "scope"),
    "format": ("storage", "format"),
    "ignore_hosts": ("", "ignore_hosts"),
    "ignore_localhost": ("", "ignore_localhost"),
}


class Overrides(TypedDict, total=False):
    """The flat keywords, typed, for ``**overrides`` signatures (a test checks it matches `FLAT`)."""

    mode: Mode | None
    include_host: bool
    ignore_json_paths: Iterable[str]
    match_headers: Iterable[str]
    strict_repeats: bool
    replay_timing: ReplayTiming
    max_inline_bytes: int
    redact_json_paths: Iterable[str]
    redact_headers: Iterable[str]
    placeholders: Mapping[str, str] | None
    allow_secrets: Iterable[str | re.Pattern[str]]
    scope: str | None
    format: FileFormat
    ignore_hosts: Iterable[str]
    ignore_localhost: bool
