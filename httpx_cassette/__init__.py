"""Record and replay HTTP traffic at the httpx transport layer.

from httpx_cassette import CassetteTransport
client = openai.OpenAI(http_client=httpx.Client(transport=CassetteTransport("cassettes/chat")))
"""

from ._cassette import Cassette, Mode
from ._errors import CassetteError, CassetteFormatError, CassetteMiss, CassetteSecretError
from ._intercept import use_cassette
from ._key import KeyOptions, canonical_form, key_of
from ._transport import CassetteTransport
from ._version import __version__

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
