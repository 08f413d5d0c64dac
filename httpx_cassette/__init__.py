"""Record and replay HTTP traffic at the httpx transport layer.

from httpx_cassette import CassetteTransport
client = openai.OpenAI(http_client=httpx.Client(transport=CassetteTransport("cassettes/chat")))
"""

from httpx_cassette._version import __version__
from httpx_cassette.core.key import KeyOptions, canonical_form, key_of
from httpx_cassette.core.modes import Mode
from httpx_cassette.errors import CassetteError, CassetteFormatError, CassetteMiss, CassetteSecretError
from httpx_cassette.http.transport import CassetteTransport
from httpx_cassette.intercept.use import use_cassette
from httpx_cassette.storage.cassette import Cassette

__all__ = [
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteMiss",
    "CassetteSecretError",
    "CassetteTransport",
    "KeyOptions",
    "Mode",
    "__version__",
    "canonical_form",
    "key_of",
    "use_cassette",
]
