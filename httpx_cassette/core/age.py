"""How old a recording is, from its ``meta.recorded_at``: for ``max_age`` and ``ls --older-than``."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["age_of", "describe_age"]


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
