"""A transport failure recorded through requests or aiohttp is raised again as the class raised live.

``except ReadTimeout`` (requests) or ``except aiohttp.ClientConnectorError`` catches on replay what it
caught while recording, with the same message. The class is looked up by the name the file holds in
the replaying library's own exceptions module, and only among its errors, whichever library recorded
it (httpx's ``ReadTimeout`` replays through requests as requests' ``ReadTimeout``): a name the library
does not have (most recorded through another library, an older file, a hand-edited one) is raised as
the broader class it always was. The failures are real: a refused connection to a closed port on
127.0.0.1, and a server socket on 127.0.0.1 that takes the connection and never answers.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from httpx_cassette import use_cassette

aiohttp = pytest.importorskip("aiohttp")
requests = pytest.importorskip("requests")
RequestError = requests.exceptions.RequestException


@pytest.fixture
def closed_url() -> str:
    """A URL on 127.0.0.1 whose port nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/models"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose server takes the connection and never answers: reading times out."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1/models"


def record_then_replay(
    directory: Path, call: Callable[[], object], base: type[Exception]
) -> tuple[Exception, Exception, str]:
    """What ``call`` raised live (recording) and on replay (both some ``base``), and the class name stored."""
    raised: list[Exception] = []
    for mode in ("record", "replay"):
        with pytest.raises(base) as caught, use_cassette(directory, mode=mode):
            call()
        raised.append(caught.value)
    (file,) = directory.glob("*.json")
    stored = json.loads(file.read_text())["responses"][0]["error"]["type"]
    return raised[0], raised[1], stored


async def aiohttp_get(url: str, timeout: aiohttp.ClientTimeout | None = None) -> bytes:
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        return bytes(await response.read())


def test_a_requests_read_timeout_replays_as_read_timeout(tmp_path: Path, silent_url: str) -> None:
    live, replayed, stored = record_then_replay(
        tmp_path, lambda: requests.get(silent_url, timeout=0.3), RequestError
    )
    assert stored == "ReadTimeout"
    assert type(live) is requests.exceptions.ReadTimeout
    assert type(replayed) is requests.exceptions.ReadTimeout
    assert str(replayed) == str(live)
    assert replayed.request is not None
    assert replayed.request.url == silent_url


def test_a_refused_requests_connection_replays_with_its_class_and_message(
    tmp_path: Path, closed_url: str
) -> None:
    live, replayed, stored = record_then_replay(
        tmp_path, lambda: requests.get(closed_url, timeout=5), RequestError
    )
    assert stored == "ConnectionError"
    assert type(live) is requests.exceptions.ConnectionError
    assert type(replayed) is requests.exceptions.ConnectionError
    assert str(replayed) == str(live)


def test_a_refused_aiohttp_connection_replays_as_client_connector_error(
    tmp_path: Path, closed_url: str
) -> None:
    live, replayed, stored = record_then_replay(
        tmp_path, lambda: asyncio.run(aiohttp_get(closed_url)), aiohttp.ClientError
    )
    assert stored == "ClientConnectorError"
    assert type(live) is aiohttp.ClientConnectorError
    assert type(replayed) is aiohttp.ClientConnectorError
    assert str(replayed) == str(live)  # "Cannot connect to host 127.0.0.1:<port> ssl:default [...]"
    assert (replayed.host, replayed.port) == (live.host, live.port)
    assert replayed.os_error.strerror == live.os_error.strerror


def test_a_refused_aiohttp_connection_under_an_ssl_context_replays_its_reason_and_errno(
    tmp_path: Path, closed_url: str
) -> None:
    # With ssl=<SSLContext> the message holds the context's repr (spaces and all) before the reason;
    # the OS error number is kept too, so ``errno == ECONNREFUSED`` holds on replay as it did live.
    context = ssl.create_default_context()
    url = closed_url.replace("http://", "https://")

    async def get() -> bytes:
        async with aiohttp.ClientSession() as session, session.get(url, ssl=context) as response:
            return bytes(await response.read())

    live, replayed, stored = record_then_replay(tmp_path, lambda: asyncio.run(get()), aiohttp.ClientError)
    assert stored == "ClientConnectorError"
    assert type(replayed) is type(live) is aiohttp.ClientConnectorError
    assert "ssl:<ssl.SSLContext object at " in str(live)
    assert str(replayed) == str(live)
    assert replayed.errno == live.errno == replayed.os_error.errno == errno.ECONNREFUSED
    assert isinstance(replayed.os_error, ConnectionRefusedError)
    (file,) = tmp_path.glob("*.json")
    data = json.loads(file.read_text())
    assert data["responses"][0]["error"]["errno"] == errno.ECONNREFUSED
    del data["responses"][0]["error"]["errno"]  # a file written before the number was kept
    file.write_text(json.dumps(data))
    with pytest.raises(aiohttp.ClientConnectorError) as older, use_cassette(tmp_path):
        asyncio.run(get())
    assert (str(older.value), older.value.errno) == (str(live), None)


def test_an_aiohttp_socket_read_timeout_replays_as_its_own_class(tmp_path: Path, silent_url: str) -> None:
    timeout = aiohttp.ClientTimeout(sock_read=0.3)
    live, replayed, stored = record_then_replay(
        tmp_path, lambda: asyncio.run(aiohttp_get(silent_url, timeout)), aiohttp.ClientError
    )
    assert stored == type(live).__name__
    assert isinstance(live, aiohttp.ServerTimeoutError)
    assert type(live) is not aiohttp.ServerTimeoutError  # a subclass (SocketTimeoutError): the test's point
    assert type(replayed) is type(live)
    assert str(replayed) == str(live)


# What a file naming each class raises on replay, through requests and through aiohttp: the library's
# own class where it has one by that name among its errors, else the broader class files always got.
REQUESTS_BY_NAME = {
    "ReadTimeout": requests.exceptions.ReadTimeout,
    "ConnectTimeout": requests.exceptions.ConnectTimeout,
    "SSLError": requests.exceptions.SSLError,
    "ProxyError": requests.exceptions.ProxyError,
    "ConnectError": requests.exceptions.ConnectionError,  # httpx's name, from an older file
    "TimeoutException": requests.exceptions.Timeout,  # httpx's
    "JSONDecodeError": requests.exceptions.ConnectionError,  # requests', but not built from a message
    "BaseHTTPError": requests.exceptions.ConnectionError,  # urllib3's HTTPError, imported there
    "CompatJSONDecodeError": requests.exceptions.ConnectionError,  # json's, imported there
    "RequestsWarning": requests.exceptions.ConnectionError,  # defined there, but a warning
    "system": requests.exceptions.ConnectionError,
}
AIOHTTP_BY_NAME = {
    "ClientConnectorError": aiohttp.ClientConnectorError,
    "ClientConnectorDNSError": aiohttp.ClientConnectorDNSError,
    "ServerDisconnectedError": aiohttp.ServerDisconnectedError,
    "ConnectionTimeoutError": aiohttp.ConnectionTimeoutError,
    "ClientOSError": aiohttp.ClientOSError,
    "ReadTimeout": aiohttp.ServerTimeoutError,  # httpx's name: aiohttp has none
    "ConnectError": aiohttp.ClientConnectionError,  # httpx's
    "ServerFingerprintMismatch": aiohttp.ClientConnectionError,  # not built from a message
    "UnixClientConnectorError": aiohttp.ClientConnectionError,  # wants a socket path
    "WSMessageTypeError": aiohttp.ClientConnectionError,  # defined there, but a TypeError
    "StreamReader": aiohttp.ClientConnectionError,  # imported there, not an exception
}


def renamed(directory: Path, name: str) -> None:
    (file,) = directory.glob("*.json")
    stored = json.loads(file.read_text())
    stored["responses"][0]["error"]["type"] = name
    file.write_text(json.dumps(stored))


def test_each_stored_class_name_replays_as_that_class_where_the_library_has_it(
    tmp_path: Path, closed_url: str
) -> None:
    with use_cassette(tmp_path, mode="record"), pytest.raises(requests.exceptions.ConnectionError):
        requests.get(closed_url, timeout=5)
    got: dict[str, type] = {}
    for name in REQUESTS_BY_NAME:
        renamed(tmp_path, name)
        with pytest.raises(RequestError) as raised, use_cassette(tmp_path):
            requests.get(closed_url, timeout=5)
        got[name] = type(raised.value)
    assert got == REQUESTS_BY_NAME

    got = {}
    for name in AIOHTTP_BY_NAME:
        renamed(tmp_path, name)
        with pytest.raises(aiohttp.ClientError) as caught, use_cassette(tmp_path):
            asyncio.run(aiohttp_get(closed_url))
        got[name] = type(caught.value)
    assert got == AIOHTTP_BY_NAME


def test_a_failure_recorded_through_httpx_replays_through_another_library_by_its_name(
    tmp_path: Path, silent_url: str, closed_url: str
) -> None:
    # The replaying library's class of the recorded name when it has one (requests has a ReadTimeout),
    # else its broader class (requests has no ConnectError; aiohttp has neither).
    httpx = pytest.importorskip("httpx")
    for url, name in ((silent_url, "ReadTimeout"), (closed_url, "ConnectError")):
        directory = tmp_path / name
        with pytest.raises(httpx.TransportError) as live, use_cassette(directory, mode="record"):
            httpx.get(url, timeout=0.3)
        assert type(live.value).__name__ == name
        with pytest.raises(RequestError) as through_requests, use_cassette(directory):
            requests.get(url, timeout=5)
        with pytest.raises(aiohttp.ClientError) as through_aiohttp, use_cassette(directory):
            asyncio.run(aiohttp_get(url))
        if name == "ReadTimeout":
            assert type(through_requests.value) is requests.exceptions.ReadTimeout
            assert type(through_aiohttp.value) is aiohttp.ServerTimeoutError
        else:
            assert type(through_requests.value) is requests.exceptions.ConnectionError
            assert type(through_aiohttp.value) is aiohttp.ClientConnectionError
        assert str(live.value) in str(through_requests.value)
        assert str(through_aiohttp.value) == f"{name}: {live.value}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n"


@pytest.fixture
def cut_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose server sends the headers and 5 of the 100 bytes announced, then closes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(HEAD + b"hello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1/files/f/content"
    stop.set()
    thread.join()
    server.close()


def test_a_body_that_broke_off_replays_with_the_error_the_caller_saw(tmp_path: Path, cut_url: str) -> None:
    def read_with_requests() -> bytes:
        return requests.get(cut_url, timeout=5).content

    live, replayed, stored = record_then_replay(tmp_path, read_with_requests, RequestError)
    assert stored == "ProtocolError"  # urllib3's, as the body's reader raised it
    assert type(live) is type(replayed) is requests.exceptions.ChunkedEncodingError  # urllib3's ProtocolError
    # urllib3's errors reach a requests caller as requests turns them (Response.iter_content).
    renamed(tmp_path, "ReadTimeoutError")
    with pytest.raises(RequestError) as caught, use_cassette(tmp_path):
        read_with_requests()
    assert type(caught.value) is requests.exceptions.ConnectionError

    aio = tmp_path / "aiohttp"
    live, replayed, stored = record_then_replay(
        aio, lambda: asyncio.run(aiohttp_get(cut_url)), aiohttp.ClientError
    )
    assert stored == "ClientPayloadError"
    assert type(live) is type(replayed) is aiohttp.ClientPayloadError
    assert str(replayed) == str(live)
    renamed(aio, "SocketTimeoutError")  # a read that timed out in the middle of the body
    with pytest.raises(aiohttp.ClientError) as raised, use_cassette(aio):
        asyncio.run(aiohttp_get(cut_url))
    assert type(raised.value) is aiohttp.SocketTimeoutError
