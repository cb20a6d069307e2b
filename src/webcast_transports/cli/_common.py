"""What the subcommands share: exit codes, failures as one-line messages, and the options that
become a client (endpoints file, session from the environment, proxy, signer).

Every failure a user can meet ends the command with one line on stderr, ``webcast: …``, and an exit
status that tells the failure apart (the table below, also in ``docs/cli.md``). Secrets — the
session id, the sign server's API key — are read from the environment, passed to the client and
never printed: error messages come from the library, whose messages never hold a secret.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Final, NoReturn

from webcast_proto import (
    AgeRestricted,
    RateLimited,
    SignatureRequired,
    SignerError,
    UserNotFound,
    UserOffline,
    WebcastError,
)
from webcast_proto.config import Endpoints
from webcast_proto.signing import EulerSigner, NoSigner

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable, Mapping

    from webcast_proto.signing import Signer

__all__ = [
    "EXIT_AGE_RESTRICTED",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OFFLINE",
    "EXIT_OK",
    "EXIT_RATE_LIMITED",
    "EXIT_SIGN_REFUSED",
    "EXIT_USAGE",
    "ClientOptions",
    "Redactor",
    "UsageError",
    "add_client_arguments",
    "client_options",
    "describe_failure",
    "load_endpoints",
    "one_line",
]

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1  # anything else: network down, unexpected answers, connection lost for good
EXIT_USAGE: Final = 2  # bad arguments, unreadable files (argparse uses 2 too)
EXIT_OFFLINE: Final = 3
EXIT_NOT_FOUND: Final = 4
EXIT_RATE_LIMITED: Final = 5
EXIT_SIGN_REFUSED: Final = 6
EXIT_AGE_RESTRICTED: Final = 7
EXIT_INTERRUPTED: Final = 130  # a second Ctrl-C, which stops without waiting (128 + SIGINT)


class UsageError(Exception):
    """A mistake in the command line or its files: reported with exit status 2."""


def fail(message: str) -> NoReturn:
    """Raise a :class:`UsageError`."""
    raise UsageError(message)


def one_line(text: str) -> str:
    """``text`` on one line: peer-controlled texts must not break the output's lines."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class _Failure:
    error: type[WebcastError]
    status: int
    summary: str


# First match wins: the specific classes before the families they belong to.
_FAILURES: Final = (
    _Failure(UserOffline, EXIT_OFFLINE, "is offline (not live now)"),
    _Failure(UserNotFound, EXIT_NOT_FOUND, "was not found (no such user, or they cannot go live)"),
    _Failure(RateLimited, EXIT_RATE_LIMITED, "was refused: rate limited"),
    _Failure(SignatureRequired, EXIT_SIGN_REFUSED, "was refused by the sign server"),
    _Failure(SignerError, EXIT_SIGN_REFUSED, "could not be signed: the sign server failed"),
    _Failure(
        AgeRestricted,
        EXIT_AGE_RESTRICTED,
        "is age-restricted: a logged-in session is needed (--session-id-env)",
    ),
)


class Redactor:
    """Replaces the secrets the command was given (session id, API key) in text it prints or logs.

    The library's messages never hold a secret it was given; but a server may quote one back (an
    error page echoing the session), and the command is the last place that can catch it.

    Args:
        secrets: the values to hide; empty and very short ones are ignored.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def filter_logs(self) -> None:
        """Redact the records of every handler of the root logger (``-v``) too."""
        if not self._secrets:
            return
        for handler in logging.getLogger().handlers:
            handler.addFilter(self._redact_record)

    def _redact_record(self, record: logging.LogRecord) -> bool:
        record.msg = self(record.getMessage())
        record.args = None
        if record.exc_info is not None:  # the traceback is formatted from the exception: keep its text only
            record.exc_text = self(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def describe_failure(error: WebcastError, who: str, redact: Callable[[str], str] = str) -> tuple[int, str]:
    """The exit status and the one-line message for a failure.

    Args:
        error: what the library raised.
        who: the room it concerns (``@user``), or ``""``.
        redact: applied to the library's message (a :class:`Redactor`).

    Returns:
        ``(status, message)``; the message starts with ``webcast:`` and has no newline.
    """
    subject = f"webcast: {who}" if who else "webcast: the room"
    detail = one_line(redact(error.message))
    for failure in _FAILURES:
        if isinstance(error, failure.error):
            text = f"{subject} {failure.summary} — {detail}"
            if error.retry_after is not None:
                text += f" (retry in {error.retry_after:g} s)"
            return failure.status, text
    return EXIT_FAILURE, f"{subject}: {detail}"


# --------------------------------------------------------------------------------------------
# Options shared by the commands that talk to TikTok (or the mock server)
# --------------------------------------------------------------------------------------------


def add_client_arguments(parser: argparse.ArgumentParser, *, connection: bool = True) -> None:
    """The options that configure the client: where TikTok is, the session, proxy and signer."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--endpoints",
        metavar="FILE",
        help="JSON object of webcast_proto.config.Endpoints fields (web, webcast, sign_server, push_server), "
        "e.g. to point everything at a mock server",
    )
    group.add_argument(
        "--session-id-env",
        metavar="VAR",
        help="read a logged-in TikTok sessionid from this environment variable (never printed)",
    )
    group.add_argument("--proxy", metavar="URL", help="http://[user:pass@]host:port or socks5://…")
    group.add_argument(
        "--signer",
        choices=("euler", "none"),
        default="euler",
        help="who signs the first fetch: the Euler Stream sign server (default, as TikTokLive and "
        "TikTok-Live-Connector do) or nobody",
    )
    group.add_argument(
        "--api-key-env", metavar="VAR", help="read the sign server's API key from this environment variable"
    )
    group.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP request (default: 10)")
    if connection:
        group.add_argument(
            "--polling", action="store_true", help="poll im/fetch instead of opening the push WebSocket"
        )


def load_endpoints(path: str) -> Endpoints:
    """Read an endpoints file: a JSON object whose keys are :class:`Endpoints` fields.

    Raises:
        UsageError: unreadable, not an object, an unknown key or a bad URL.
    """
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except OSError as exc:
        fail(f"cannot read the endpoints file {path}: {exc.strerror or exc}")
    except ValueError as exc:
        fail(f"the endpoints file {path} is not JSON: {exc}")
    known = [f.name for f in fields(Endpoints)]
    if not isinstance(document, dict):
        fail(f"the endpoints file {path} must hold a JSON object with keys among: {', '.join(known)}")
    unknown = sorted(set(document) - set(known))
    if unknown:
        fail(f"the endpoints file {path} has unknown keys {unknown}; known: {', '.join(known)}")
    try:
        return Endpoints(**document)
    except (TypeError, ValueError) as exc:
        fail(f"the endpoints file {path}: {exc}")


def _secret_from_env(option: str, variable: str | None, environ: Mapping[str, str]) -> str | None:
    if variable is None:
        return None
    value = environ.get(variable, "")
    if not value.strip():
        fail(f"{option} {variable}: that environment variable is not set (or empty)")
    return value.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """Keyword arguments for ``TikTokLiveClient`` / ``SyncTikTokLiveClient`` from the command line."""

    endpoints: Endpoints
    session_id: str | None
    proxy: str | None
    signer: Signer
    timeout: float
    enable_websocket_upgrade: bool
    redact: Redactor = field(default_factory=Redactor)

    def as_kwargs(self) -> dict[str, object]:
        """The options as the clients take them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "redact"}

    def __repr__(self) -> str:  # the session id and the signer's key stay out of reprs and logs
        return f"ClientOptions(endpoints={self.endpoints!r}, proxy={'<set>' if self.proxy else None})"


def client_options(ns: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ClientOptions:
    """The client options of parsed arguments.

    Raises:
        UsageError: a bad endpoints file, a missing environment variable, a bad timeout.
    """
    env = os.environ if environ is None else environ
    endpoints = Endpoints() if ns.endpoints is None else load_endpoints(ns.endpoints)
    session_id = _secret_from_env("--session-id-env", ns.session_id_env, env)
    api_key = _secret_from_env("--api-key-env", ns.api_key_env, env)
    if not ns.timeout > 0:
        fail(f"--timeout must be a positive number of seconds, got {ns.timeout}")
    signer: Signer
    if ns.signer == "euler":
        try:
            signer = EulerSigner(endpoints=endpoints, api_key=api_key)
        except ValueError as exc:
            fail(f"--api-key-env {ns.api_key_env}: {exc}")
    else:
        signer = NoSigner()
    redact = Redactor((session_id, api_key))
    if getattr(ns, "verbose", False):  # -v logs to stderr through the root logger's handler
        redact.filter_logs()
    return ClientOptions(
        endpoints=endpoints,
        session_id=session_id,
        proxy=ns.proxy,
        signer=signer,
        timeout=ns.timeout,
        enable_websocket_upgrade=not getattr(ns, "polling", False),
        redact=redact,
    )
