"""Ignore rules: which requests are nobody's test business (telemetry, trace uploads).

Pure matching over method, host and path; the routes in `httpx_cassette.intercept` decide what to do
with a match (let it out, or answer it locally in replay).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import translate

from httpx_cassette.config import CassetteConfig, IgnoreRule

__all__ = ["TELEMETRY", "IgnoreRules", "IgnoreRule"]

# Known telemetry endpoints, ignored by default (``ignore_defaults=False`` turns them off). Each one
# carries ids and timestamps that change on every run, so a recording of it would miss on every replay.
TELEMETRY: tuple[IgnoreRule, ...] = (
    # openai-agents: the trace exporter's upload, from a background thread
    # (agents/tracing/processors.py, _OPENAI_TRACING_INGEST_ENDPOINT)
    IgnoreRule(method="POST", host="api.openai.com", path="/v1/traces/ingest"),
    # LangSmith run uploads (LangChain tracing with LANGSMITH_TRACING on): /runs, /runs/batch, /runs/multipart
    IgnoreRule(method="POST", host="*api.smith.langchain.com", path="/runs*"),
    IgnoreRule(method="PATCH", host="*api.smith.langchain.com", path="/runs*"),
    # PostHog product analytics (us.i.posthog.com, eu.i.posthog.com, app.posthog.com), which several
    # LLM tools and vector stores send usage events to
    IgnoreRule(method="*", host="*posthog.com", path="*"),
)


class IgnoreRules:
    """The rules of one config: its own ``ignore`` first, then the defaults unless turned off."""

    def __init__(self, rules: Iterable[IgnoreRule]) -> None:
        self.rules = tuple(rules)
        # compiled once: every intercepted request is checked against every rule
        self._compiled = [
            (
                re.compile(translate(r.method.upper())),
                re.compile(translate(r.host.lower())),
                re.compile(translate(r.path)),
                r,
            )
            for r in self.rules
        ]

    @classmethod
    def of(cls, config: CassetteConfig) -> IgnoreRules:
        return cls((*config.ignore, *(TELEMETRY if config.ignore_defaults else ())))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match(self, method: str, host: str, path: str) -> IgnoreRule | None:
        """The first rule matching (globs; method and host case-insensitive), or None."""
        method, host, path = method.upper(), host.lower().strip("[]"), path or "/"
        for method_glob, host_glob, path_glob, rule in self._compiled:
            if method_glob.match(method) and host_glob.match(host) and path_glob.match(path):
                return rule
        return None
