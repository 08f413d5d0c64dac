"""Whether a token looks random: what tells a key with no known prefix from an id, a word or a date."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

__all__ = ["HEADER_TOKEN", "ID_HEADERS", "entropy", "high_entropy", "random_token"]

_CANDIDATE = re.compile(r"[A-Za-z0-9_-]{32,}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_ID_SEGMENT = re.compile(r"[a-z][a-z0-9]*[-_][A-Za-z0-9]+")  # file-abc..., resp_..., msg_01...
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# Random base62/base64 tokens: ~4.2+ bits per character, and the character class (upper, lower, digit)
# changes at ~60% of neighbours; words, versions and dates change class rarely.
_MIN_ENTROPY = 3.5
_MIN_CHANGES = 0.4
_HIGH_ENTROPY, _MIN_CHANGES_HIGH = 4.4, 0.25


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text).values()
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts)


def _kind(char: str) -> int:
    return 0 if char.isupper() else 1 if char.islower() else 2 if char.isdigit() else 3


def high_entropy(token: str) -> bool:
    """Mixed case and digits, high entropy, and a character class that keeps changing: random keys do,
    while words, versions and dates (``max-age=31536000;includeSubDomains``) change class rarely."""
    kinds = [_kind(c) for c in token]
    bits = entropy(token)
    if not {0, 1, 2} <= set(kinds) or bits < _MIN_ENTROPY:
        return False
    pairs = [(a, b) for a, b in itertools.pairwise(kinds) if a != 3 and b != 3]
    changes = sum(a != b for a, b in pairs) / len(pairs) if pairs else 0.0
    # A random token changes class less often now and then (2 in 1,000 of 43 characters stay under
    # 0.4); its entropy still gives it away, where words and versions stay near 4.3 bits.
    return changes >= _MIN_CHANGES or (bits >= _HIGH_ENTROPY and changes >= _MIN_CHANGES_HIGH)


def _random_hex(token: str) -> bool:
    return bool(_HEX.fullmatch(token)) and not token.isdigit() and not token.isalpha()


def random_token(text: str) -> str | None:
    """A random token without a known prefix inside ``text``: 32+ hex characters (Azure OpenAI keys), or
    32+ base64url characters of random look. Prefixed ids (``file-...``, ``resp_...``) and UUIDs do not
    count."""
    for match in _CANDIDATE.finditer(text):
        token = match.group(0)
        if _ID_SEGMENT.fullmatch(token) or _UUID.fullmatch(token):
            continue
        if _random_hex(token) or high_entropy(token):
            return token
    return None


# A token in a header value: what `SecretScanner` judges by its entropy.
HEADER_TOKEN = re.compile(r"[A-Za-z0-9+/_.=-]{24,}")
# Headers whose values are random by design but are ids, not credentials.
ID_HEADERS = frozenset(
    [
        "request-id",
        "x-request-id",
        "x-client-request-id",
        "x-correlation-id",
        "x-trace-id",
        "traceparent",
        "tracestate",
        "cf-ray",
        "etag",
        "x-amzn-requestid",
        "x-amzn-request-id",
        "x-amz-request-id",
        "x-amz-id-2",
        "x-amz-cf-id",
        "x-amzn-trace-id",
        "x-cloud-trace-context",
        "x-guploader-uploadid",
        "apim-request-id",
        "x-ms-request-id",
        "x-ms-client-request-id",
        "anthropic-organization-id",
        "content-security-policy",
    ]
)
