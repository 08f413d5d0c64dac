"""The errors a recording raises instead of writing what the secret check refused: a credential, what
the check could not read through, or a placeholder's own text in a response."""

from __future__ import annotations

from pathlib import Path

from httpx_cassette.core.findings import Finding
from httpx_cassette.core.placeholders import PlaceholderClash
from httpx_cassette.errors import CassetteError, CassetteSecretError

__all__ = ["placeholder_clash", "refusal"]


def refusal(cassette: Path, what: str, findings: list[Finding]) -> CassetteSecretError:
    """The error for a recording that would have written ``findings``; ``what`` is what holds them. What
    the check could not read through is worded apart: it is no credential, but not clean either."""
    consequence = (
        "so it was not sent and nothing was written"
        if what.startswith("the request")
        else "so nothing was written (the caller got the live response)"
    )
    found = [f for f in findings if not f.unchecked]
    unread = [f for f in findings if f.unchecked]
    lines: list[str] = []
    if found:
        remedies = sorted({f.remedy() for f in found})
        lines += [
            f"refusing to record into cassette {cassette}: {what} holds what looks like a credential,"
            f" {consequence}:",
            *(f"  {finding}" for finding in found),
            f"keep it off disk with {', '.join(remedies)} (an option of CassetteTransport, use_cassette,"
            " @pytest.mark.cassette or the cassette_config fixture); if it is not a secret, allow it with"
            " allow_secrets=[...] (exact values, or re.compile(...) patterns)",
        ]
    if unread:
        lines += [
            f"refusing to record into cassette {cassette}: {what} holds what the secret check cannot read"
            f" through, so it cannot be called free of credentials, {consequence}:",
            *(f"  {finding}" for finding in unread),
            "keep that part off disk (redact_json_paths=[...], redact_headers=[...]), or do not record"
            " this request",
        ]
    return CassetteSecretError("\n".join(lines), list(findings))


def placeholder_clash(cassette: Path, request: str, clash: PlaceholderClash) -> CassetteError:
    """The error for a response that holds a placeholder's own text (replay would change it)."""
    return CassetteError(
        f"refusing to record into cassette {cassette}: the response to {request} already holds the text"
        f" {clash.placeholder!r}, which is one of your placeholders, so replay would turn it into the"
        " secret; nothing was written (the caller got the live response). Choose a placeholder that"
        f" cannot occur in the traffic, such as '<<{clash.placeholder.strip('<>')}>>'"
    )


def forward_refused(cassette: Path, request: str, source: str) -> CassetteSecretError:
    """The error for a request, missing from the cassette, to a host a redirect it replayed named."""
    return CassetteSecretError(
        f"refusing to forward {request} from cassette {cassette}: a redirect replayed from the cassette (the"
        f" answer to {source}) sent it there, to another host, scheme or port, so it is the file's request,"
        " not your code's, and it would carry your client's headers (API keys) there. A cassette is read"
        " back from pull requests: check that answer; if the redirect is real, record the first request"
        " again (mode 'record', or delete its file and use 'record-missing').",
        [],
    )
