"""Every credential format the scanner knows is found wherever it starts a token: the table below holds
one sample of each (assembled at run time), and a format added to the scanner without a sample here
fails the first test. The scanner looks only where one of its formats may start (`STARTS`, for speed):
a format whose first character is missing there would never be found, and these tests say so. Formats
whose prefix alone is common (``sk_``, ``pa-``) are held to their keys' exact shape: near misses that
ordinary text, identifiers and model names hold are no credential."""

from __future__ import annotations

import pytest

from httpx_cassette.core.formats import KINDS, STARTS, kind_of, known_format, pattern

ALNUM = "A1b2C3d4E5f6G7h8J9k0"
HEX = "0123456789abcdef"
SAMPLES = {
    "Anthropic API key": "sk-" + "ant-api03-" + ALNUM * 2,
    "OpenAI API key": "sk-" + "proj-" + ALNUM * 2,
    "bearer token": "Bearer " + ALNUM,
    "basic credentials": "Basic " + "dXNlcjpodW50ZXIyaHVudGVyMg==",
    "AWS access key id": "AKIA" + "ABCDEFGH23456789",
    "JSON Web Token": "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NSJ9" + "." + ALNUM,
    "Google API key": "AIza" + (ALNUM * 2)[:35],
    "GitHub token": "ghp_" + (ALNUM * 2)[:36],
    "Slack token": "xoxb-" + "1234567890-" + ALNUM,
    "Hugging Face token": "hf_" + (ALNUM * 2)[:34],
    "Groq API key": "gsk_" + (ALNUM * 3)[:52],
    "OpenAI ephemeral key": "ek_" + ALNUM * 2,
    "Stripe secret key": "sk_" + "live_" + ALNUM,
    "GitLab token": "glpat-" + ALNUM,
    "npm token": "npm_" + (ALNUM * 2)[:36],
    "PyPI token": "pypi-" + "AgE" + ALNUM * 3,
    "SendGrid API key": "SG." + ALNUM + "." + ALNUM,
    "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "Google OAuth access token": "ya29" + ".a0AfB_" + ALNUM * 2,
    "Google OAuth client secret": "GOCSPX" + "-" + (ALNUM * 2)[:28],
    "xAI API key": "xai" + "-" + (ALNUM * 4)[:80],
    "Perplexity API key": "pplx" + "-" + (ALNUM * 3)[:48],
    "Replicate API token": "r8" + "_" + (ALNUM * 2)[:37],
    "Tavily API key": "tvly" + "-dev-" + (ALNUM * 2)[:32],
    "Pinecone API key": "pcsk" + "_4Zq7x2_" + (ALNUM * 4)[:64],
    "LangSmith API key": "lsv2" + "_pt_" + HEX * 2 + "_" + HEX[:10],
    "Cerebras API key": "csk" + "-" + (ALNUM * 3)[:48],
    "ElevenLabs API key": "sk" + "_" + HEX * 3,
    "Voyage AI API key": "pa" + "-" + (ALNUM * 3)[:43],
    "Vault token": "hvs" + ".CAESI" + ALNUM * 4,
    "Databricks token": "dapi" + HEX * 2,
}
# What each of the formats above may look like in text that holds no key.
NEAR_MISSES = [
    "task_" + HEX * 3,  # "sk_" inside a word
    "sk" + "_" + "abcdef" * 8,  # 48 hex letters: no digit
    "sk" + "_" + "0123456789" * 5,  # digits only
    "sk" + "_" + HEX * 3 + "0",  # 49: no ElevenLabs key
    "sk_learn_model_selection_cross_validation_grid_search_cv",
    "pa" + "-state-of-the-art-retrieval-models-in-2024-x",  # a slug: no upper case
    "pa" + "-" + (ALNUM * 3)[:39],  # too short
    "xai" + "-grok-2-latest",  # model names
    "pplx" + "-7b-online",
    "csk" + "-" + "abc",
    "hvs" + ".example.com",
    "ya29" + ".short",
    "r8" + "_" + ALNUM,
    "tvly" + "-" + ALNUM,
    "dapi" + "_version_" + HEX,
    "lsv2" + "_pt_" + HEX,
    "GOCSPX" + "-short",
]


def test_every_known_format_has_a_sample_here() -> None:
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("around", ["{}", "text before {} and after", '{{"key": "{}"}}', "\\n{}"])
def test_each_format_is_found_where_it_starts_a_token(kind: str, around: str) -> None:
    sample = SAMPLES[kind]
    assert sample[0] in STARTS
    found = [(kind_of(m), m.group(0)) for m in pattern().finditer(around.format(sample))]
    assert found == [(kind, sample)]


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_no_format_is_found_inside_a_word(kind: str) -> None:
    assert [m.group(0) for m in pattern().finditer("x" + SAMPLES[kind])] == []


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_no_credential(text: str) -> None:
    assert known_format(f"see {text} here") == []
