"""Every credential format the scanner knows is found wherever it starts a token: the table below holds
one sample of each (assembled at run time), and a format added to the scanner without a sample here
fails the first test. The scanner looks only where one of its formats may start (`STARTS`, for speed):
a format whose first character is missing there would never be found, and these tests say so."""

from __future__ import annotations

import pytest

from httpx_cassette.core.secrets import GROUPS, PATTERN, STARTS

ALNUM = "A1b2C3d4E5f6G7h8J9k0"
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
}


def test_every_known_format_has_a_sample_here() -> None:
    assert set(SAMPLES) == set(GROUPS.values())


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("around", ["{}", "text before {} and after", '{{"key": "{}"}}', "\\n{}"])
def test_each_format_is_found_where_it_starts_a_token(kind: str, around: str) -> None:
    sample = SAMPLES[kind]
    assert sample[0] in STARTS
    found = [(GROUPS[m.lastgroup or ""], m.group(0)) for m in PATTERN.finditer(around.format(sample))]
    assert found == [(kind, sample)]


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_no_format_is_found_inside_a_word(kind: str) -> None:
    assert [m.group(0) for m in PATTERN.finditer("x" + SAMPLES[kind])] == []
