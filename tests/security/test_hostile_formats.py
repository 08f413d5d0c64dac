"""Hostile files in other recorders' formats: vcrpy YAML cassettes (``convert --from vcr``) and llama-stack
recordings (replay, ``convert --to llama-stack``).

Every file is built here, in ``tmp_path``. A broken or hostile one must give one clear line naming the
file (and the interaction), never a raw traceback, never unbounded memory or CPU, and never a read or
a write outside the tree the user named. Bombs are asserted on the error they raise, not on timing;
`deadline` only turns a hang into a failure.
"""

from __future__ import annotations

import base64
import io
import json
import os
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteFormatError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from httpx_cassette.core.decoding import zlib_decoder
from httpx_cassette.errors import CassetteError
from httpx_cassette.formats import vcr, vcr_yaml
from httpx_cassette.formats.llamastack import convert_directory, from_llama_stack, recording_name
from httpx_cassette.formats.llamastack import files as llama_files
from httpx_cassette.http.library import library_by_name
from httpx_cassette.model.body import body_bytes
from tests.security.hostile import OUTSIDE_TEXT, deadline, ours, put

yaml = pytest.importorskip("yaml")

BOMB = 80 * 1024 * 1024  # decompressed size of every bomb: past the 64 MiB cap


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with deadline():
        status = main([str(a) for a in argv], Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def one_clear_line(err: str, *names: str | Path) -> None:
    """``err`` is one line from the CLI naming each of ``names``, no traceback."""
    assert err.startswith("httpx-cassette convert: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for name in names:
        assert str(name) in err, (name, err)


# -- vcrpy cassettes ------------------------------------------------------------------------------


def interaction(
    body: Any = None, response: Any = "hi", headers: Any = None, uri: Any = "https://x.test/a"
) -> dict[str, Any]:
    return {
        "request": {"body": body, "headers": {}, "method": "GET", "uri": uri},
        "response": {
            "body": {"string": response},
            "headers": {"content-type": ["text/plain"]} if headers is None else headers,
            "status": {"code": 200, "message": "OK"},
        },
    }


def cassette(*interactions: dict[str, Any]) -> str:
    text: str = yaml.safe_dump({"interactions": list(interactions), "version": 1})
    return text


GOOD = cassette(interaction())


def converted_text(root: Path) -> str:
    return "".join(p.read_text() for p in root.rglob("*.json")) if root.exists() else ""


def test_a_yaml_linked_outside_the_source_is_refused_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.yaml").write_text(cassette(interaction(response=OUTSIDE_TEXT.decode())))
    source = tmp_path / "src"
    source.mkdir()
    (source / "test_a.yaml").symlink_to(outside / "private.yaml")
    status, _, err = cli("convert", source, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, source / "test_a.yaml", "symbolic link")
    assert OUTSIDE_TEXT.decode() not in converted_text(tmp_path / "out")
    # the single-file form too
    status, _, err = cli("convert", source / "test_a.yaml", tmp_path / "out2", "--from", "vcr")
    assert status == 1
    one_clear_line(err, source / "test_a.yaml", "symbolic link")
    assert not (tmp_path / "out2").exists()


def test_converting_in_place_never_writes_through_a_linked_target_folder(tmp_path: Path) -> None:
    source, victim = tmp_path / "src", tmp_path / "victim"
    source.mkdir()
    victim.mkdir()
    (source / "test_b.yaml").write_text(GOOD)
    (source / "test_b").symlink_to(victim)  # where test_b.yaml's cassette folder goes
    status, _, err = cli("convert", source, source, "--from", "vcr")
    assert status != 0
    one_clear_line(err, source / "test_b", "symbolic link")
    assert list(victim.iterdir()) == []


def test_a_linked_folder_inside_the_destination_is_not_written_through(tmp_path: Path) -> None:
    source, destination, victim = tmp_path / "src", tmp_path / "dst", tmp_path / "victim"
    (source / "mod").mkdir(parents=True)
    (source / "mod" / "test_c.yaml").write_text(GOOD)
    destination.mkdir()
    victim.mkdir()
    (destination / "mod").symlink_to(victim)
    status, _, err = cli("convert", source, destination, "--from", "vcr")
    assert status == 2
    one_clear_line(err, destination / "mod", "symbolic link")
    assert list(victim.iterdir()) == []
    (destination / "mod").unlink()
    destination.rmdir()
    destination.symlink_to(victim)  # the destination itself
    status, _, err = cli("convert", source, destination, "--from", "vcr")
    assert status == 2
    one_clear_line(err, destination, "symbolic link")
    assert list(victim.iterdir()) == []


def test_a_linked_folder_in_the_source_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "test_x.yaml").write_text(cassette(interaction(response=OUTSIDE_TEXT.decode())))
    source = tmp_path / "src"
    source.mkdir()
    (source / "test_ok.yaml").write_text(GOOD)
    (source / "linked").symlink_to(outside)
    status, _, err = cli("convert", source, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, source / "linked", "symbolic link")
    assert OUTSIDE_TEXT.decode() not in converted_text(tmp_path / "out")
    (source / "linked").unlink()
    (tmp_path / "src-link").symlink_to(source)  # the source folder itself
    status, _, err = cli("convert", tmp_path / "src-link", tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, tmp_path / "src-link", "symbolic link")


def test_a_fifo_yaml_does_not_hang(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    os.mkfifo(source / "test_fifo.yaml")
    status, _, err = cli("convert", source, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, source / "test_fifo.yaml", "FIFO")


def test_an_oversized_yaml_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "test_big.yaml"
    with open(big, "wb") as out:
        out.truncate(vcr.MAX_YAML_BYTES + 1)  # sparse: nothing to read unless someone reads it
    status, _, err = cli("convert", big, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, big, "limit")


def gzip_bomb() -> bytes:
    """`BOMB` zero bytes, gzipped (~80 KB), built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(BOMB >> 20)) + packer.flush()


def bomb(coding: str) -> bytes:
    zeros = b"\0" * BOMB
    if coding == "gzip":
        return gzip_bomb()
    if coding == "deflate":
        return zlib.compress(zeros, 9)
    if coding == "gzip, gzip":  # each layer alone is small: ~80 KB, then ~1 KB
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        return packer.compress(gzip_bomb()) + packer.flush()
    if coding == "br":
        compressed: bytes = pytest.importorskip("brotli").compress(zeros, quality=5)
        return compressed
    if coding == "zstd":
        zstandard = pytest.importorskip("zstandard")
        compressed = zstandard.ZstdCompressor(level=3).compress(zeros)
        return compressed
    raise AssertionError(coding)


def binary_cassette(body: bytes, coding: str) -> str:
    return f"""interactions:
- request: {{body: null, headers: {{}}, method: GET, uri: 'https://x.test/file'}}
  response:
    body: {{string: !!binary '{base64.b64encode(body).decode()}'}}
    headers: {{content-encoding: ['{coding}'], content-type: [application/octet-stream]}}
    status: {{code: 200, message: OK}}
version: 1
"""


@pytest.mark.parametrize("coding", ["gzip", "deflate", "gzip, gzip", "br", "zstd"])
def test_a_decompression_bomb_is_refused_naming_the_file_and_interaction(tmp_path: Path, coding: str) -> None:
    file = tmp_path / "test_bomb.yaml"
    file.write_text(binary_cassette(bomb(coding), coding))
    with deadline(), pytest.raises(CassetteError) as caught:
        vcr.read_vcr(file, library_by_name("httpx").decoder)  # the CLI's decoders: br and zstd too
    assert str(caught.value).startswith(f"cannot convert interaction 0 of vcrpy cassette {file}: ")
    assert f"decodes to over {vcr.MAX_INFLATED_BYTES:,} bytes" in str(caught.value)
    status, _, err = cli("convert", file, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, file, "interaction 0", "decodes to over")
    assert not (tmp_path / "out").exists()


def test_the_standard_library_decoder_is_capped_too(tmp_path: Path) -> None:
    file = tmp_path / "test_bomb.yaml"
    file.write_text(binary_cassette(gzip_bomb(), "gzip"))
    with pytest.raises(CassetteError, match="decodes to over"):
        vcr.read_vcr(file, zlib_decoder)


def test_bodies_under_the_cap_still_decode(tmp_path: Path) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    inner = packer.compress(b"hello " * 100_000) + packer.flush()
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    file = tmp_path / "test_ok.yaml"
    file.write_text(binary_cassette(packer.compress(inner) + packer.flush(), "gzip, gzip"))
    (converted,) = vcr.read_vcr(file, library_by_name("httpx").decoder)
    assert body_bytes(converted.responses[0]) == b"hello " * 100_000
    assert "content-encoding" not in converted.responses[0].headers


def laughs(levels: int = 30) -> str:
    """A "billion laughs": ~1 KB of YAML whose aliases stand for 2**levels strings."""
    lines = ['  l0: &l0 ["lollollollollollollollollollol", "lollollollollollollollollollol"]']
    lines += [f"  l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, levels)]
    request = f"{{body: *l{levels - 1}, headers: {{}}, method: POST, uri: 'https://x.test/'}}"
    return "defs:\n" + "\n".join(lines) + f"\ninteractions:\n- request: {request}\n  response: {{}}\n"


def test_an_alias_bomb_is_refused_while_reading(tmp_path: Path) -> None:
    file = tmp_path / "test_laughs.yaml"
    file.write_text(laughs())
    assert file.stat().st_size < 2_000
    with deadline(), pytest.raises(CassetteError) as caught:
        vcr.read_vcr(file)
    assert str(caught.value).startswith(f"cannot read vcrpy cassette {file}: its aliases (*l")
    status, _, err = cli("convert", file, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, file, "aliases")


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "test_loop.yaml"
    file.write_text("loop: &a [*a]\ninteractions: []\n")
    with pytest.raises(CassetteError, match=r"found a recursive alias \*a"):
        vcr.read_vcr(file)


def test_aliases_within_the_limit_still_convert(tmp_path: Path) -> None:
    shared = {"content-type": ["application/json"]}  # PyYAML's dumper writes it once, then aliases it
    interactions = [
        interaction(response=f'{{"n": {i}}}', headers=shared, uri=f"https://x/{i}") for i in range(3)
    ]
    text = yaml.dump({"interactions": interactions, "version": 1})
    assert "&id001" in text
    assert "*id001" in text
    file = tmp_path / "test_aliases.yaml"
    file.write_text(text)
    assert [c.responses[0].body for c in vcr.read_vcr(file)] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_structure_where_a_body_or_header_value_goes_is_refused_not_stringified(tmp_path: Path) -> None:
    file = tmp_path / "test_x.yaml"
    file.write_text(cassette(interaction(body=[["a"] * 3] * 3)))
    with pytest.raises(CassetteError) as caught:
        vcr.read_vcr(file)
    assert str(caught.value) == (
        f"cannot convert interaction 0 of vcrpy cassette {file}: `request.body` must be a string or"
        " !!binary, got a list"
    )
    file.write_text(cassette(interaction(), interaction(headers={"x": [["nested"]]})))
    with pytest.raises(CassetteError, match=r"interaction 1 of .* `response.headers` 'x' must hold strings"):
        vcr.read_vcr(file)


def test_too_many_yaml_nodes_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vcr_yaml, "_MAX_NODES", 1_000)  # the real cap (a million) takes ~20 s to reach
    file = tmp_path / "test_many.yaml"
    file.write_text("interactions:\n" + "- a\n" * 2_000)
    with pytest.raises(CassetteError, match="it has over 1,000 YAML nodes"):
        vcr.read_vcr(file)


MALFORMED = {
    "request-is-a-list": ("interactions:\n- request: [1]\n  response: {}\n", "`request` must be a mapping"),
    "interaction-is-a-string": ("interactions: [oops]\n", "the interaction must be a mapping, got a str"),
    "no-response": ("interactions:\n- request: {}\n", "must have a `request` and a `response`"),
    "request-headers-list": (
        GOOD.replace("headers: {}", "headers: [1, 2]"),
        "`request.headers` must be a mapping",
    ),
    "response-headers-list": (
        GOOD.replace("headers:\n      content-type:\n      - text/plain", "headers: [a]"),
        "`response.headers` must be a mapping",
    ),
    "uri-bad-ipv6": (GOOD.replace("uri: https://x.test/a", "uri: 'http://[::1'"), "Invalid IPv6 URL"),
    "uri-missing": (
        GOOD.replace("uri: https://x.test/a", "x: 1"),
        "`request.uri` must be a string, got nothing",
    ),
    "method-number": (
        GOOD.replace("method: GET", "method: 5"),
        "`request.method` must be a string, got a int",
    ),
    "status-huge": (GOOD.replace("code: 200", "code: 99999999999999999999"), "must be an HTTP status"),
    "status-list": (GOOD.replace("code: 200", "code: [200]"), "must be an HTTP status"),
    "status-missing": (GOOD.replace("status:\n", "x:\n"), "`response.status` must be a mapping, got nothing"),
    "body-lone-surrogate": (GOOD.replace("string: hi", 'string: "\\ud800"'), "UnicodeEncodeError"),
    "gzip-garbage": (binary_cassette(b"not gzip at all", "gzip"), "its gzip body does not decode"),
    "json-body-too-deep": (
        cassette(
            interaction(response="[" * 5_000 + "]" * 5_000, headers={"content-type": ["application/json"]})
        ),
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("label", list(MALFORMED))
def test_a_malformed_interaction_is_one_line_naming_it(tmp_path: Path, label: str) -> None:
    text, problem = MALFORMED[label]
    source = tmp_path / "src"
    source.mkdir()
    file = source / "test_x.yaml"
    file.write_text(text)
    status, _, err = cli("convert", source, tmp_path / "out", "--from", "vcr")
    assert status == 1, err
    one_clear_line(err, f"cannot convert interaction 0 of vcrpy cassette {file}: ", problem)


@pytest.mark.parametrize(
    "text", ["interactions: " + "[" * 5_000 + "]" * 5_000 + "\n", "a:\n" + "  " * 1 + "[" * 150]
)
def test_deeply_nested_yaml_is_refused(tmp_path: Path, text: str) -> None:
    file = tmp_path / "test_deep.yaml"
    file.write_text(text)
    status, _, err = cli("convert", file, tmp_path / "out", "--from", "vcr")
    assert status == 1
    one_clear_line(err, f"cannot read vcrpy cassette {file}: ", "nests deeper than 100 levels")


# -- llama-stack recordings -------------------------------------------------------------------------


def recording(mapping: Any = None, data: Any = None, **request: Any) -> dict[str, Any]:
    stored = {
        "method": "POST",
        "url": "https://api.test/v1/v1/chat/completions",
        "headers": {},
        "body": {"model": "m", "messages": []},
        "endpoint": "/v1/chat/completions",
        "model": "m",
    }
    return {
        "test_id": None,
        "request": {**stored, **request},
        "response": {"body": {"__type__": "T", "__data__": {"a": 1} if data is None else data}},
        "id_normalization_mapping": mapping or {},
    }


def replay(directory: Path, body: Any) -> httpx.Response:
    with deadline(), httpx.Client(transport=CassetteTransport(directory, mode="replay")) as client:
        return client.post("https://api.test/v1/chat/completions", json=body)


def test_a_mapping_of_100k_ids_replays_in_one_pass(tmp_path: Path) -> None:
    n = 100_000  # tested string by string against every id, this took minutes
    items = [f"s{i}" for i in range(n)] + ["see never-present-00000042 and never-present-00000007x"]
    mapping = {f"rec-{i}": f"never-present-{i:08d}" for i in range(n)}
    put(tmp_path, recording(mapping, {"items": items}), "0123abcd.json")
    response = replay(tmp_path, {"model": "m", "messages": []})
    assert response.json()["items"][-1] == "see rec-42 and rec-7x"


def test_a_mapping_replaces_the_longest_id_and_leaves_the_json_whole(tmp_path: Path) -> None:
    mapping = {"rec-short": "chatcmpl-ab", "rec-long": "chatcmpl-abc", "rec-quote": '"'}
    data = {"id": "chatcmpl-abc", "text": 'chatcmpl-ab, chatcmpl-abcd "x"', "chatcmpl-ab": 1}
    put(tmp_path, recording(mapping, data), "0123abcd.json")
    assert replay(tmp_path, {"model": "m", "messages": []}).json() == {
        "id": "rec-long",
        "text": "rec-short, rec-longd rec-quotexrec-quote",
        "rec-short": 1,
    }


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ({f"n{i}": f"{i:x}-{'q' * 20}-{i * 7919:x}" for i in range(20_000)}, "distinct id prefixes"),
        ({"n": "a" * 300}, "holds an id over 256 characters"),
        ({f"n{i}": f"{i:0250d}" for i in range(20_000)}, "characters of ids"),
        ({"n": ["a", "b"]}, "maps 'n' to a list, not an id"),
        ({"n": None}, "maps 'n' to a null, not an id"),
    ],
    ids=["prefixes", "long-id", "total", "list", "null"],
)
def test_a_mapping_too_large_or_odd_is_refused_naming_the_file(
    tmp_path: Path, mapping: dict[str, Any], problem: str
) -> None:
    put(tmp_path, recording(mapping), "0123abcd.json")
    with pytest.raises(CassetteFormatError) as caught:
        replay(tmp_path, {"model": "m", "messages": []})
    assert caught.value.path == str(tmp_path / "0123abcd.json")
    assert problem in caught.value.problem


def test_a_mapping_replacing_millions_of_ids_is_capped(tmp_path: Path) -> None:
    put(tmp_path, recording({"b": "a"}, {"text": "a" * 2_000_000}), "0123abcd.json")
    with pytest.raises(CassetteFormatError, match="replaces over 1,000,000 ids"):
        replay(tmp_path, {"model": "m", "messages": []})


@pytest.mark.parametrize(
    "request_fields",
    [{"url": 5}, {"url": ["a"]}, {"method": None}],
    ids=["url-number", "url-list", "method-null"],
)
def test_convert_to_llama_stack_writes_a_recording_llama_stack_can_hash(
    tmp_path: Path, request_fields: dict[str, Any]
) -> None:
    source, target = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    put(source, recording(**request_fields), "0123abcd.json")
    status, _, err = cli("convert", source, target, "--to", "llama-stack")
    assert (status, err) == (0, ""), err
    (written,) = (json.loads(p.read_text()) for p in target.iterdir())
    assert isinstance(written["request"]["url"], str)
    assert isinstance(written["request"]["method"], str)
    assert cli("verify", target)[0] == 0


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_convert_to_llama_stack_takes_a_deeply_nested_body(tmp_path: Path) -> None:
    source, target = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    put(source, ours(body={"q": 1, "d": deep(600)}))
    status, _, err = cli("convert", source, target, "--to", "llama-stack")
    assert (status, err) == (0, ""), err
    assert cli("verify", target)[0] == 0


def test_a_body_too_deep_to_write_names_the_source_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    put(source, ours(body={"q": 1, "d": deep(10)}))
    (file,) = source.iterdir()

    def too_deep(value: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")  # what a body deeper still gives

    monkeypatch.setattr(llama_files, "_hash_form", too_deep)
    status, _, err = cli("convert", source, tmp_path / "out", "--to", "llama-stack")
    assert status == 1
    one_clear_line(err, file, "nested too deeply to convert to llama-stack")


def test_the_hash_form_is_iterative_and_unchanged() -> None:
    body = {"b": [1.1234567, "x 2.71828182 y", {"c": True, "d": None}], "a": 3}
    assert llama_files._hash_form(body) == {"b": [1.12346, "x 2.71828 y", {"c": True, "d": None}], "a": 3}
    assert list(llama_files._hash_form(body)) == ["b", "a"]
    assert llama_files._hash_form(deep(5_000)) is not None  # no RecursionError


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"url": 5}, "`request.url` is a int"), ({"method": None}, "`request.method` is null")],
)
def test_recording_name_refuses_a_request_it_cannot_hash(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        recording_name(recording(**fields))


@pytest.mark.parametrize("side", ["source", "target"])
def test_convert_directory_refuses_linked_folders(tmp_path: Path, side: str) -> None:
    real_source, real_target = tmp_path / "src", tmp_path / "out"
    real_source.mkdir()
    real_target.mkdir()
    put(real_source, recording(), "0123abcd.json")
    source, target = real_source, tmp_path / "out-link"
    target.symlink_to(real_target)
    if side == "source":
        source, target = tmp_path / "src-link", tmp_path / "elsewhere"
        source.symlink_to(real_source)
    with pytest.raises(CassetteError, match="symbolic link"):
        convert_directory(source, target, to="ours")
    assert list(real_target.iterdir()) == []


def test_replay_of_a_normal_mapping_is_unchanged(tmp_path: Path) -> None:
    """The common case, through the public reader: a few ids, replaced wherever they occur."""
    mapping = {"rec-1": "chatcmpl-XYZ", "rec-2": "file-abc"}
    raw = recording(mapping, {"id": "chatcmpl-XYZ", "url": "/v1/files/file-abc/content"})
    (response,) = from_llama_stack(raw, "x.json").responses
    assert response.body == {"id": "rec-1", "url": "/v1/files/rec-2/content"}
