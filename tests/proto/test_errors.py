"""The error hierarchy: one root, an abstract ProtocolError, and retry hints (STYLE.md §6)."""

from __future__ import annotations

import inspect

import pytest

import webcast_proto
from webcast_proto import (
    LocalProtocolError,
    ProtocolError,
    RateLimited,
    RemoteProtocolError,
    UserNotFound,
    UserOffline,
    WebcastError,
)


def _public_errors() -> list[type[BaseException]]:
    return [
        obj
        for name in webcast_proto.__all__
        if inspect.isclass(obj := getattr(webcast_proto, name)) and issubclass(obj, BaseException)
    ]


def test_every_exported_error_has_the_one_root() -> None:
    """Every exception class webcast_proto exports derives from WebcastError."""
    errors = _public_errors()
    assert len(errors) > 15
    assert all(issubclass(cls, WebcastError) for cls in errors), errors


def test_protocol_error_is_abstract() -> None:
    """ProtocolError itself cannot be raised; its two children can."""
    with pytest.raises(TypeError, match="abstract"):
        ProtocolError("x")
    assert isinstance(LocalProtocolError("x"), ProtocolError)
    assert isinstance(RemoteProtocolError("x"), ProtocolError)


def test_retry_hints() -> None:
    """Peer garbage and rate limits are worth retrying; misuse and a missing user are not."""
    assert RemoteProtocolError("x").retryable
    assert RateLimited("slow down", status_code=429, retry_after=3.0).retryable
    assert UserOffline("off").retryable
    assert not LocalProtocolError("x").retryable
    assert not UserNotFound("nobody").retryable


def test_message_and_retry_after() -> None:
    """.message is the text; retry_after and status_code are kept; close_code defaults to 1002."""
    err = RateLimited("slow down", status_code=429, retry_after=2.5)
    assert (err.message, err.retry_after, err.status_code) == ("slow down", 2.5, 429)
    assert RemoteProtocolError("bad").close_code == 1002
    assert RemoteProtocolError("big", close_code=1009).close_code == 1009
