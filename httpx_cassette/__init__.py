"""Record and replay HTTP traffic at the httpx transport layer.

from httpx_cassette import CassetteTransport
client = openai.OpenAI(http_client=httpx.Client(transport=CassetteTransport("cassettes/chat")))

`VcrConfigWarning` is the pytest plugin's (a pytest warning): it is imported when first asked for, so
``import httpx_cassette`` does not import pytest.
"""

from typing import TYPE_CHECKING

from httpx_cassette._version import __version__
from httpx_cassette.config import (
    CassetteConfig,
    IgnoreRule,
    MatchConfig,
    RedactConfig,
    ReplayConfig,
    StorageConfig,
)
from httpx_cassette.core.key import KeyOptions, canonical_form, key_of
from httpx_cassette.core.modes import Mode
from httpx_cassette.core.plan import Play, Record
from httpx_cassette.errors import (
    CassetteAgeWarning,
    CassetteError,
    CassetteExpired,
    CassetteFormatError,
    CassetteMiss,
    CassetteSecretError,
    NetworkBlocked,
)
from httpx_cassette.http.transport import CassetteTransport
from httpx_cassette.intercept.session import CassetteSession
from httpx_cassette.intercept.use import use_cassette
from httpx_cassette.model.cassette import Meta, Request, Response
from httpx_cassette.storage.cassette import Cassette

if TYPE_CHECKING:
    from httpx_cassette.pytest_plugin.vcr_config import VcrConfigWarning

__all__ = [
    "Cassette",
    "CassetteAgeWarning",
    "CassetteConfig",
    "CassetteError",
    "CassetteExpired",
    "CassetteFormatError",
    "CassetteMiss",
    "CassetteSecretError",
    "CassetteSession",
    "CassetteTransport",
    "IgnoreRule",
    "KeyOptions",
    "MatchConfig",
    "Meta",
    "Mode",
    "NetworkBlocked",
    "Play",
    "Record",
    "RedactConfig",
    "ReplayConfig",
    "Request",
    "Response",
    "StorageConfig",
    "VcrConfigWarning",
    "__version__",
    "canonical_form",
    "key_of",
    "use_cassette",
]


def __getattr__(name: str) -> object:
    """`VcrConfigWarning`, imported on first use (it needs pytest)."""
    if name == "VcrConfigWarning":
        from httpx_cassette.pytest_plugin.vcr_config import VcrConfigWarning

        return VcrConfigWarning
    raise AttributeError(f"module 'httpx_cassette' has no attribute {name!r}")
