"""Credentials of a known format: a provider's prefix and the length and alphabet it documents, found
anywhere in text with no name next to them. One table (`_RULES`), one pattern built from it (`pattern`;
`kind_of` names the rule a match is of, one of `KINDS`), searched only where a rule may start (`STARTS`).

Each rule is a prefix and a body of a documented length or with a digit in it, so that ordinary words
and identifiers are not taken for keys; a prefix too generic for that (``sk_``, ``pa-``) gets the exact
alphabet and length its keys have. Each stays linear in its text: a body that may hold ``-`` either
does not start after one (``sk-(?<!-sk-)``) or is of bounded length: a run of starts is read once.
"""

from __future__ import annotations

import functools
import re

__all__ = ["KINDS", "STARTS", "kind_of", "known_format", "pattern"]

_RULES = {
    # Not after a "-" either: each of these scans the run of [\w-] after it, so a start at every "-" of
    # a long run ("sk-ant-sk-ant-...") would scan it again and again (quadratic, a hostile file's DoS).
    # (The look behind comes after the first characters: `re` then tells a rule apart by its first.)
    "Anthropic API key": r"sk-ant-(?<!-sk-ant-)(?=[\w-]*\d)[\w-]{20,}",
    "OpenAI API key": r"sk-(?<!-sk-)(?=[\w-]*\d)[\w-]{20,}",
    "bearer token": r"[Bb]earer\s+(?!REDACTED\b)[\w.~+/-]{16,}=*",
    # HTTP Basic credentials (base64 of "user:password"), in a header dump or a curl command in text.
    "basic credentials": r"[Bb]asic\s+(?!REDACTED\b)(?=[A-Za-z0-9+/]{0,256}[0-9+/=])[A-Za-z0-9+/]{16,}=*",
    "AWS access key id": r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Z])",
    "JSON Web Token": r"eyJ(?<!-eyJ)[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*",
    "Google API key": r"AIza[\w-]{35}",
    # An OAuth 2.0 access token (what Vertex AI and application default credentials send) and an OAuth
    # client's secret (random: lower case in it).
    "Google OAuth access token": r"ya29\.[\w-]{20,}",
    "Google OAuth client secret": r"GOCSPX-(?<!-GOCSPX-)(?=[\w-]*[a-z])[\w-]{20,}",
    "GitHub token": r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{40,})",
    # Bot, user and legacy tokens, refresh tokens (xoxe-, xoxe.xoxp-), app-level tokens (xapp-).
    "Slack token": r"(?:xox[abeprs]|xoxe\.xox[bp]|xapp)-[A-Za-z0-9-]{10,}",
    "Hugging Face token": r"hf_[A-Za-z0-9]{30,}",
    "Groq API key": r"gsk_[A-Za-z0-9]{40,}",
    "xAI API key": r"xai-(?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{60,}",
    "Perplexity API key": r"pplx-[A-Za-z0-9]{40,}",
    "Replicate API token": r"r8_[A-Za-z0-9]{37}(?![A-Za-z0-9])",
    # tvly- (older keys), tvly-dev-, tvly-prod-: 32 characters.
    "Tavily API key": r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}(?![A-Za-z0-9])",
    "Pinecone API key": r"pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{40,}",
    "LangSmith API key": r"lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}(?![A-Za-z0-9])",
    "Cerebras API key": r"csk-(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{40,}",
    # 48 hex digits, letters and digits both: "sk_" alone starts many identifiers.
    "ElevenLabs API key": r"sk_(?=[0-9a-f]{0,47}\d)(?=[0-9a-f]{0,47}[a-f])[0-9a-f]{48}(?![\w-])",
    # base64url of 32 bytes with upper case, lower case and digits: "pa-" alone starts many words.
    "Voyage AI API key": (
        r"pa-(?=[\w-]{0,47}\d)(?=[\w-]{0,47}[A-Z])(?=[\w-]{0,47}[a-z])[A-Za-z0-9_-]{40,48}(?![\w-])"
    ),
    # Service, batch and recovery tokens of HashiCorp Vault 1.10+.
    "Vault token": r"hv[sbr]\.(?=[\w-]*\d)[\w-]{24,}",
    # A personal access token: 32 hex digits, and a "-<n>" suffix on some.
    "Databricks token": r"dapi[0-9a-f]{32}(?:-\d)?(?![\w-])",
    # A client secret the Realtime API mints for a browser (short-lived, but a key while it lives).
    "OpenAI ephemeral key": r"ek_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{24,}",
    "Stripe secret key": r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
    "GitLab token": r"glpat-[\w-]{20,}",
    "npm token": r"npm_[A-Za-z0-9]{36,}",
    "PyPI token": r"pypi-AgE[\w-]{50,}",
    "SendGrid API key": r"SG\.[\w-]{16,}\.[\w-]{16,}",
    # PEM (RSA, EC, OpenSSH, ENCRYPTED...) and armored PGP (``PRIVATE KEY BLOCK``) private keys.
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----",
}
KINDS = tuple(_RULES)
# The characters a credential of a known format starts with (each rule's first): a lookahead for them
# first lets `re` pass over every other position in C, 3 to 8 times faster through a large body.
STARTS = "-ABGSabcdeghlnprstxy"
# A credential starts a token (so "task-..." is no "sk-..." key); after an escape a token starts too: a
# JSON one (``\\nsk-...``, ``\\u0022sk-...`` in JSON text that is not whole JSON) or a percent one
# (``%22sk-...``, percent-encoded JSON in text that is no URL).
_BOUNDARY = (
    r"(?=[" + STARTS + r"])"
    r"(?:(?<![A-Za-z0-9_])|(?<=\\[nrtbf])|(?<=\\u[0-9A-Fa-f]{4})|(?<=%[0-9A-Fa-f]{2}))"
)
# One pass per string. The rules are alternatives with no group of their own: `re` skips one whose first
# character is not there at once (a named group around each would enter all 30 at each candidate: twice
# as slow through text). A match, which is rare, is then told by the first rule that matches there.


@functools.cache
def pattern() -> re.Pattern[str]:
    """The one pattern of every rule. Compiled at the first search, not at import: replay never
    searches, and 30 rules take milliseconds to compile."""
    return re.compile(_BOUNDARY + "(?:" + "|".join(f"(?:{rule})" for rule in _RULES.values()) + ")")


@functools.cache
def _each() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(rule)) for kind, rule in _RULES.items())


def kind_of(match: re.Match[str]) -> str:
    """The kind of credential a match of `pattern` is (the first rule that matches where it starts, as
    the alternation took it)."""
    text, start, end = match.string, match.start(), match.end()
    for kind, rule in _each():
        found = rule.match(text, start)
        if found is not None and found.end() == end:
            return kind
    return "credential of a known format"  # unreachable: the alternation is these rules


def known_format(text: str) -> list[str]:
    """Every credential of a known format (``sk-...``, AWS key ids, JWTs...) inside ``text``."""
    return [m.group(0) for m in pattern().finditer(text)]
