"""``--cassette-block-network`` (and pytest-recording's ``--block-network``) stops requests where they would
reach a real connection, so requests an in-process mock answers on the way pass, as they do under
pytest-recording (which blocks sockets).

respx patches httpcore's connection pool: a request it answers never reaches a connection, and passes.
A custom transport answering in-process passes too, and so do requests that `responses` (a patched
``HTTPAdapter.send``) or requests-mock (its own adapter) answer, and aiohttp requests a patched
``ClientSession._request`` (aioresponses' way) answers. What would use the network is still refused with
`NetworkBlocked`: a respx ``pass_through`` route, an httpx2 client (respx does not patch httpcore2), an
async client, a request on a connection a recording kept alive, custom transports sending with
requests, aiohttp or ``http.client``, and a transport doing its I/O in a worker thread started without
the request's context (the guards fail closed there: no route let it out). What a route lets out goes
out from such a thread too: a host the test's cassette lets through, a recording whose thread was given
the context. The server is the local OpenAI-wire app on 127.0.0.1; it must see those requests and
nothing else.
"""

from __future__ import annotations

import fnmatch

# Imported before any pytester run: pytester drops what an in-process run imports, and a later run would
# import aiohttp afresh while the hooks' shell module, left an attribute of its package, holds the copy
# the first run imported (a real session imports each library once).
import aiohttp  # noqa: F401
import pytest
import requests  # noqa: F401

from tests.pytester_project import CONFTEST, NATIVE
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

pytest.importorskip("respx")

MOCKED = """
import asyncio

import httpx
import pytest
import respx

CLIENT = httpx.Client()  # shared by the tests below: its connection is kept alive between them


@respx.mock
def test_respx_decorator():
    respx.get("https://billing.example.com/plan").mock(return_value=httpx.Response(200, json={"plan": "pro"}))
    assert httpx.get("https://billing.example.com/plan").json() == {"plan": "pro"}


def test_respx_fixture(respx_mock):
    route = respx_mock.post("https://api.openai.com/v1/moderations")
    route.mock(return_value=httpx.Response(200, json={"flagged": False}))
    reply = httpx.post("https://api.openai.com/v1/moderations", json={"input": "x"})
    assert reply.json() == {"flagged": False}


@pytest.mark.asyncio
async def test_respx_async(respx_mock):
    respx_mock.get("https://billing.example.com/plan").mock(return_value=httpx.Response(204))
    async with httpx.AsyncClient() as client:
        assert (await client.get("https://billing.example.com/plan")).status_code == 204


def test_respx_mocks_a_real_host(api, respx_mock):
    respx_mock.get(f"{api}/models").mock(return_value=httpx.Response(200, json={"data": []}))
    assert httpx.get(f"{api}/models").json() == {"data": []}


def test_own_transport_answering_in_process():
    class Canned(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, json={"canned": True})

    assert httpx.Client(transport=Canned()).get("https://x.example/").json() == {"canned": True}


def test_respx_pass_through_is_blocked(api, respx_mock):
    respx_mock.get(f"{api}/models").pass_through()
    httpx.get(f"{api}/models")


@pytest.mark.asyncio
async def test_async_client_is_blocked(api):
    async with httpx.AsyncClient() as client:
        await client.get(f"{api}/models")


def test_httpx2_is_blocked(api):
    httpx2 = pytest.importorskip("httpx2")
    httpx2.get(f"{api}/models")


def test_transport_sending_with_requests_is_blocked(api):
    import requests

    class ViaRequests(httpx.BaseTransport):
        def handle_request(self, request):
            sent = requests.get(str(request.url), timeout=5)
            return httpx.Response(sent.status_code, content=sent.content)

    httpx.Client(transport=ViaRequests()).get(f"{api}/models")


@pytest.mark.asyncio
async def test_transport_sending_with_aiohttp_is_blocked(api):
    import aiohttp

    class ViaAiohttp(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            async with aiohttp.ClientSession() as session, session.get(str(request.url)) as sent:
                return httpx.Response(sent.status, content=await sent.read())

    async with httpx.AsyncClient(transport=ViaAiohttp()) as client:
        await client.get(f"{api}/models")


def test_transport_sending_with_http_client_is_blocked(api):
    import http.client

    class ViaHttpClient(httpx.BaseTransport):
        def handle_request(self, request):
            connection = http.client.HTTPConnection(request.url.host, request.url.port, timeout=5)
            connection.request("GET", request.url.raw_path.decode())
            sent = connection.getresponse()
            return httpx.Response(sent.status, content=sent.read())

    httpx.Client(transport=ViaHttpClient()).get(f"{api}/models")


# A sync transport run off the event loop, in a thread that does not get the request's context
# (run_in_executor), unless copy (asyncio.to_thread copies it).
class InAWorkerThread(httpx.AsyncBaseTransport):
    def __init__(self, copy=False):
        self.inner, self.copy = httpx.HTTPTransport(), copy

    async def handle_async_request(self, request):
        request.read()
        if self.copy:
            sent = await asyncio.to_thread(self.inner.handle_request, request)
        else:
            sent = await asyncio.get_running_loop().run_in_executor(None, self.inner.handle_request, request)
        return httpx.Response(sent.status_code, headers=sent.headers, content=sent.read())


@pytest.mark.asyncio
async def test_transport_in_a_worker_thread_is_blocked(api):
    async with httpx.AsyncClient(transport=InAWorkerThread()) as client:
        await client.get(f"{api}/models")


@pytest.mark.asyncio
@pytest.mark.cassette(ignore_localhost=True)
async def test_a_host_the_cassette_lets_through_goes_out_from_a_worker_thread(api):
    async with httpx.AsyncClient(transport=InAWorkerThread()) as client:
        assert (await client.get(f"{api}/models")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.cassette(mode="record")
async def test_a_recording_in_a_thread_given_the_context(api):
    async with httpx.AsyncClient(transport=InAWorkerThread(copy=True)) as client:
        assert (await client.get(f"{api}/models")).status_code == 200


def test_a_cassette_transport_of_ones_own_records(api, tmp_path):
    from httpx_cassette import CassetteTransport

    transport = CassetteTransport(tmp_path, mode="record", inner=httpx.HTTPTransport())
    assert httpx.Client(transport=transport).get(f"{api}/models").status_code == 200


@pytest.mark.cassette(mode="record")
def test_recording_opens_a_connection(api):
    assert CLIENT.get(f"{api}/models").status_code == 200


def test_the_connection_it_kept_alive_is_not_reused(api):
    CLIENT.get(f"{api}/models")


def test_requests_adapter_send_mocked(api):
    # What `responses` does: HTTPAdapter.send patched for the test. The mock answers, as with no block.
    from unittest import mock

    import requests

    def canned(adapter, request, **kwargs):
        answer = requests.Response()
        answer.status_code, answer._content, answer.request, answer.url = 200, b"[1]", request, request.url
        return answer

    with mock.patch.object(requests.adapters.HTTPAdapter, "send", canned):
        assert requests.get(f"{api}/models", timeout=5).json() == [1]


def test_responses_mocks_a_real_host(api):
    import requests
    import responses

    with responses.RequestsMock() as mocked:
        mocked.get(f"{api}/models", json={"data": []})
        assert requests.get(f"{api}/models", timeout=5).json() == {"data": []}


def test_requests_mock_mocks_a_real_host(api):
    import requests
    import requests_mock

    with requests_mock.Mocker() as mocked:
        mocked.get(f"{api}/models", json={"data": []})
        assert requests.get(f"{api}/models", timeout=5).json() == {"data": []}


@pytest.mark.asyncio
async def test_aiohttp_session_request_mocked(api):
    # What aioresponses does: ClientSession._request patched for the test. The mock answers.
    from unittest import mock

    import aiohttp

    class Canned:
        status = 200

        async def json(self):
            return {"data": []}

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            pass

        def release(self):
            pass

    async def canned(session, method, url, **kwargs):
        return Canned()

    with mock.patch.object(aiohttp.ClientSession, "_request", canned):
        async with aiohttp.ClientSession() as session, session.get(f"{api}/models") as answer:
            assert await answer.json() == {"data": []}


@pytest.mark.asyncio
async def test_aiohttp_is_blocked(api):
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{api}/models") as answer:
        await answer.read()


def test_responses_behind_an_adapter_of_ones_own(api):
    # An adapter that sets a default timeout, sending with super().send: responses answers beneath it
    import requests
    import responses

    class DefaultTimeout(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            kwargs["timeout"] = kwargs.get("timeout") or 5
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("http://", DefaultTimeout())
    with responses.RequestsMock() as mocked:
        mocked.get(f"{api}/models", json={"data": []})
        assert session.get(f"{api}/models").json() == {"data": []}


def test_requests_mock_adapter_mounted():
    import requests
    import requests_mock

    adapter = requests_mock.Adapter()
    adapter.register_uri("GET", "mock://billing/plan", json={"plan": "pro"})
    session = requests.Session()
    session.mount("mock://", adapter)
    assert session.get("mock://billing/plan").json() == {"plan": "pro"}


def test_requests_is_blocked(api):
    import requests

    requests.Session().get(f"{api}/models", timeout=5)


def test_requests_adapter_in_a_worker_thread_is_blocked(api):
    # An adapter of its own may do its I/O where the block's guard is not (a worker thread): refused
    # when the session hands the request over.
    import http.client
    import threading
    import urllib.parse

    import requests
    from requests.adapters import BaseAdapter

    class Threaded(BaseAdapter):
        def send(self, request, **kwargs):
            got = []

            def fetch():
                url = urllib.parse.urlsplit(request.url)
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
                connection.request("GET", url.path)
                got.append(connection.getresponse().read())

            thread = threading.Thread(target=fetch)
            thread.start()
            thread.join()
            answer = requests.Response()
            answer.status_code, answer._content, answer.request = 200, got[0], request
            return answer

        def close(self):
            pass

    session = requests.Session()
    session.mount("http://", Threaded())
    session.get(f"{api}/models")


SESSION = DIRECT = None  # a requests session and an adapter of the tests below: connections kept alive


@pytest.mark.cassette(mode="record")
def test_a_requests_recording_opens_a_connection(api):
    import requests

    global SESSION, DIRECT
    SESSION, DIRECT = requests.Session(), requests.adapters.HTTPAdapter()
    assert SESSION.get(f"{api}/models", timeout=5).status_code == 200
    assert DIRECT.send(requests.Request("GET", f"{api}/models").prepare(), timeout=5).status_code == 200


def test_requests_kept_alive_is_blocked(api):
    import requests

    DIRECT.send(requests.Request("GET", f"{api}/models").prepare(), timeout=5)


def test_responses_pass_through_is_blocked(api):
    # responses, imported by the conftest before the plugin hooked requests, passes through with
    # requests' own send, on the connection the recording kept alive
    import responses

    with responses.RequestsMock() as mocked:
        mocked.add_passthru(api)
        SESSION.get(f"{api}/models", timeout=5)
"""
PASSED = (
    "respx_decorator",
    "respx_fixture",
    "respx_async",
    "respx_mocks_a_real_host",
    "own_transport_answering_in_process",
    "requests_adapter_send_mocked",
    "responses_mocks_a_real_host",
    "requests_mock_mocks_a_real_host",
    "responses_behind_an_adapter_of_ones_own",
    "requests_mock_adapter_mounted",
    "aiohttp_session_request_mocked",
    "a_host_the_cassette_lets_through_goes_out_from_a_worker_thread",
    "a_recording_in_a_thread_given_the_context",
    "a_cassette_transport_of_ones_own_records",
    "recording_opens_a_connection",
    "a_requests_recording_opens_a_connection",
)
BLOCKED = (
    "respx_pass_through_is_blocked",
    "async_client_is_blocked",
    "httpx2_is_blocked",
    "the_connection_it_kept_alive_is_not_reused",
    "transport_sending_with_requests_is_blocked",  # a session beneath a custom transport
    "transport_sending_with_aiohttp_is_blocked",
    "transport_sending_with_http_client_is_blocked",  # anything else: at socket connect
    "transport_in_a_worker_thread_is_blocked",  # no context there: no route let it out
    "requests_is_blocked",  # down its adapter, refused where HTTPAdapter sends
    "aiohttp_is_blocked",
    "responses_pass_through_is_blocked",
    "requests_adapter_in_a_worker_thread_is_blocked",
    "requests_kept_alive_is_blocked",  # on the connection a recording kept alive: refused as urllib3 sends
)


@pytest.mark.parametrize("option", ["--cassette-block-network", "--block-network"])
def test_requests_an_in_process_mock_answers_pass_the_network_block_and_nothing_else_does(
    inner: pytest.Pytester, openai_server: LiveServer[OpenAIApp], option: str
) -> None:
    inner.makepyfile(test_mocked=MOCKED)
    # responses imported before the plugin hooks requests keeps requests' own send for its pass-through
    inner.makeconftest(CONFTEST + "\nimport responses  # noqa: F401\n")
    before = openai_server.app.stats.requests_to("/v1/models")
    result = inner.runpytest_inprocess(*NATIVE, option, "-p", "no:randomly")
    result.assert_outcomes(passed=len(PASSED), failed=len(BLOCKED))
    result.stdout.fnmatch_lines_random([f"FAILED test_mocked.py::test_{name} - *" for name in BLOCKED])
    refused = (
        f"E *httpx_cassette.errors.NetworkBlocked: network blocked ({option}):"
        f" GET {openai_server.base_url}/models was not served from a cassette*"
    )
    assert sum(1 for line in result.outlines if fnmatch.fnmatch(line, refused)) == len(BLOCKED)
    # the recordings' and the let-through host's only
    assert openai_server.app.stats.requests_to("/v1/models") == before + 6


HTTPX2_LATE = """
import pytest


def test_an_httpx2_transport_made_after_the_block_went_on_is_blocked(api):
    httpx2 = pytest.importorskip("httpx2")  # imported now: httpcore2's connection modules with it
    httpx2.HTTPTransport().handle_request(httpx2.Request("GET", f"{api}/models"))
"""


def test_a_connection_module_imported_after_the_block_went_on_is_guarded(
    inner: pytest.Pytester, openai_server: LiveServer[OpenAIApp]
) -> None:
    """A fresh process, as a suite runs: httpx2 imports httpcore2's connection modules only when a
    transport is made, after the block went on (`guard._import_points`)."""
    pytest.importorskip("httpx2")
    inner.makepyfile(test_late=HTTPX2_LATE)
    before = openai_server.app.stats.requests_to("/v1/models")
    result = inner.runpytest_subprocess(*NATIVE, "--cassette-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NetworkBlocked: network blocked (--cassette-block-network)*"])
    assert openai_server.app.stats.requests_to("/v1/models") == before
