"""``match_on`` functions given through pytest-recording's names follow vcrpy's matcher protocol:
None or a true value is a match; False or an AssertionError is none (its message is the reason); any
other exception is a bug in the function. They are handed vcrpy's request shape (``path``, ``query``,
``body`` bytes...), the request sent first and the recorded one second, as vcrpy hands them.

Driven through pytester against the local OpenAI-wire server, as tests/test_vcr_compat.py is.
"""

from __future__ import annotations

import pytest

from tests.pytester_project import run_vcr as run
from tests.pytester_project import (
    vcr_project,  # noqa: F401 - the `inner` fixture
)

MATCHERS = """
import json

import httpx
import pytest


def chat(api, model):
    return httpx.post(f"{api}/chat/completions?b=2&a=1",
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def same_route(r1, r2):  # vcrpy's assert style: returns None
    assert (r1.method, r1.scheme, r1.host, r1.port) == (r2.method, r2.scheme, r2.host, r2.port)
    assert r1.path == r2.path == "/v1/chat/completions"
    assert r1.query == r2.query == [("a", "1"), ("b", "2")]
    assert r1.uri == r1.url and r1.headers["Content-Type"] == "application/json"


def same_model(r1, r2):  # vcrpy's boolean style, over the body bytes
    return json.loads(r1.body)["model"] == json.loads(r2.body)["model"]


def sent_then_recorded(r1, r2):  # vcrpy hands (the request sent, the recorded one)
    assert json.loads(r1.body)["model"] == "live", "r1 is not the request sent"
    assert json.loads(r2.body)["model"] == "recorded", "r2 is not the recorded request"


@pytest.mark.vcr(match_on=["method", "path", same_route, same_model])
def test_styles(api):
    assert chat(api, "m").status_code == 200


@pytest.mark.vcr(match_on=["method", "path", sent_then_recorded])
def test_order(api):
    assert chat(api, MODEL).status_code == 200
"""


def test_vcrpy_style_matchers_see_vcrpys_request_names_and_replay(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_m=MATCHERS.replace("MODEL", '"recorded"'))
    run(inner, "--record-mode=once").assert_outcomes(passed=2)
    inner.makepyfile(test_m=MATCHERS.replace("MODEL", '"live"'))
    run(inner, "--record-mode=none").assert_outcomes(passed=2)


REFUSALS = """
import httpx
import pytest


def chat(api, model):
    return httpx.post(f"{api}/chat/completions",
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def same_model(r1, r2):
    if r1.json()["model"] != r2.json()["model"]:
        raise AssertionError(f"model {r2.json()['model']} was recorded, {r1.json()['model']} sent")


def false_for_other_models(r1, r2):
    return r1.json()["model"] == r2.json()["model"]


def broken(r1, r2):
    return {}[r1.path]


@pytest.mark.vcr(match_on=["method", "path", same_model])
def test_assertion(api):
    chat(api, MODEL)


@pytest.mark.vcr(match_on=["method", "path", false_for_other_models])
def test_false(api):
    chat(api, MODEL)


@pytest.mark.vcr(match_on=["method", "path", broken])
def test_broken(api):
    chat(api, "recorded")
"""


def test_a_refusal_is_a_miss_with_the_functions_reason_and_other_errors_name_the_function(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(test_r=REFUSALS.replace("MODEL", '"recorded"'))
    run(inner, "--record-mode=once").assert_outcomes(passed=3)
    inner.makepyfile(test_r=REFUSALS.replace("MODEL", '"other"'))
    result = run(inner, "--record-mode=none")
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert "CassetteMiss: the match_on function same_model (model recorded was recorded, other sent)" in out
    assert "CassetteMiss: the match_on function false_for_other_models refused the recording" in out
    assert "raised AssertionError" not in out
    result.stdout.fnmatch_lines(["*match_on function broken raised KeyError: '/v1/chat/completions'*"])


ALWAYS_NO = """
import httpx
import pytest


def never(r1, r2):  # a bug: it refuses even the very request it recorded
    assert r1.path == "/elsewhere", "not elsewhere"


@pytest.mark.vcr(match_on=["method", never])
def test_never(api):
    httpx.get(f"{api}/models/gpt-4o")
"""


def test_a_function_refusing_an_identical_recording_is_named_as_the_reason_not_a_missing_recording(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(test_n=ALWAYS_NO)
    run(inner, "--record-mode=once").assert_outcomes(passed=1)
    result = run(inner, "--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: the match_on function never refused the recording of GET*/v1/models/gpt-4o"
            " in */cassettes/test_n/test_never/get-*.json (not elsewhere*), although it is identical to the"
            " request: the function is the reason*",
        ]
    )
    assert "to record it" not in result.stdout.str()
