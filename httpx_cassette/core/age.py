"""How old a recording is, from its ``meta.recorded_at``: for ``max_age`` and ``ls --older-than``."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["age_of", "describe_age", "expired", "too_old"]


def age_of(recorded_at: str, now: datetime | None = None) -> float | None:
    """Seconds since ``recorded_at``; None when it is empty or not a date (the age is then unknown)."""
    try:
        when = datetime.fromisoformat(recorded_at)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # written without a zone: ours are UTC
        when = when.replace(tzinfo=timezone.utc)
    return ((now or datetime.now(timezone.utc)) - when).total_seconds()


def describe_age(seconds: float) -> str:
    """``"120 days"``, ``"5 hours"``, ``"1 day"``: an age as a message shows it."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{int(seconds)} seconds"


def expired(recorded_at: str, max_age: float | None) -> bool:
    """Whether a recording is older than ``max_age`` seconds (None, the default: no date to parse)."""
    age = None if max_age is None else age_of(recorded_at)
    return age is not None and age > float(max_age or 0)


def too_old(file: object, recorded_at: str, max_age: float) -> str:
    """The warning (or, with ``strict_age``, the error) for a recording older than ``max_age``."""
    age, limit = describe_age(age_of(recorded_at) or 0), describe_age(float(max_age))
    return (
        f"cassette file {file} was recorded {age} ago ({recorded_at}), more than max_age ({limit}):"
        " re-record it (mode record-missing re-records expired recordings)"
    )
