"""Record and replay HTTP traffic at the httpx transport layer.

from httpx_cassette import CassetteTransport
client = openai.OpenAI(http_client=httpx.Client(transport=CassetteTransport("cassettes/chat")))
"""

from httpx_cassette._version import __version__
from httpx_cassette.config import CassetteConfig, MatchConfig, RedactConfig, ReplayConfig, StorageConfig
from httpx_cassette.core.key import KeyOptions, canonical_form, key_of
from httpx_cassette.core.modes import Mode
from httpx_cassette.core.plan import Play, Record
from httpx_cassette.errors import (
    CassetteError,
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

__all__ = [
    "Cassette",
    "CassetteConfig",
    "CassetteError",
    "CassetteFormatError",
    "CassetteMiss",
    "CassetteSecretError",
    "CassetteSession",
    "CassetteTransport",
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
    "__version__",
    "canonical_form",
    "key_of",
    "use_cassette",
]
