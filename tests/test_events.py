"""Unit tests of `httpx_cassette.core.events`: the SDK class names recorded as a stream event's `__type__`."""

from __future__ import annotations

import typing

import pytest

from httpx_cassette.core.events import type_name


def test_openai_responses_type_names_are_the_sdk_classes() -> None:
    """The informational `__type__` of Responses API events names the class the SDK parses each into."""
    from openai.types.responses import ResponseStreamEvent

    named = 0
    for cls in typing.get_args(typing.get_args(ResponseStreamEvent)[0]):
        [kind] = typing.get_args(cls.model_fields["type"].annotation)
        found = type_name({"type": kind})
        if found is not None:
            assert found == f"{cls.__module__}.{cls.__qualname__}"
            named += 1
    assert named == 16
    assert type_name({"type": "response.not_an_event"}) is None


def test_anthropic_type_names_are_the_sdk_classes() -> None:
    anthropic_types = pytest.importorskip("anthropic.types")
    classes = typing.get_args(typing.get_args(anthropic_types.RawMessageStreamEvent)[0])
    for cls in classes:
        [kind] = typing.get_args(cls.model_fields["type"].annotation)
        assert type_name({"type": kind}) == f"{cls.__module__}.{cls.__qualname__}"
    assert len(classes) == 6
    assert type_name({"type": "ping"}) is None
