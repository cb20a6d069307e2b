"""What the fuzzer found, kept found: one test per finding, and every fuzz input replayed (issue 7).

The contract (STYLE.md §11, ``fuzz/targets.py``): any bytes from the network give a value or events,
or raise ``RemoteProtocolError`` (the HTTP parsers: an ``HTTPError``, or ``RemoteProtocolError`` for
a limit); nothing else, no warning. Each finding has a test below named for it, stating the rule the
input broke. A finding whose fix belongs to a file the fuzz work does not own is an
``xfail(strict=True)`` naming the exception it still raises: it turns red the day the fix lands, so
its entry in ``fuzz/targets.py`` ``KNOWN_ISSUES`` (and the ``xfail``) can go. ``fuzz/README.md``
lists every finding with its status.

The replay tests run the committed seed corpus and every saved fuzz input (``fuzz/regressions/``)
through the fuzz targets without atheris, so the harness and its inputs stay working between
campaigns.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from webcast_proto import (
    CaptchaRequired,
    ClientConnection,
    EulerSigner,
    HTTPError,
    RemoteProtocolError,
    Request,
    Response,
    ServerConnection,
    State,
    codec,
)
from webcast_proto import fixtures as fx
from webcast_proto.http import SIGI_STATE_PATTERN, parse_live_page
from webcast_proto.signing import LegacySigner

if TYPE_CHECKING:
    from types import ModuleType

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
ROOM_ID = fx.DEFAULT_ROOM_ID
NOW = 1000.0


def _load_targets() -> ModuleType:
    """``fuzz/targets.py`` (not a package: the fuzz scripts put ``fuzz/`` on ``sys.path``)."""
    spec = importlib.util.spec_from_file_location("webcast_fuzz_targets", FUZZ / "targets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


targets = _load_targets()


def _inputs(root: Path) -> list[tuple[str, Path]]:
    return sorted((path.parent.name, path) for path in root.glob("*/*") if path.is_file())


SEEDS = _inputs(FUZZ / "corpus")
REGRESSIONS = _inputs(FUZZ / "regressions")


# --------------------------------------------------------------------------------------------
# Replays
# --------------------------------------------------------------------------------------------


def test_every_target_has_seeds() -> None:
    """Each fuzz target starts from a committed seed corpus (guards against an empty replay below)."""
    assert {target for target, _ in SEEDS} == set(targets.TARGETS)


@pytest.mark.parametrize(("target", "path"), SEEDS, ids=[f"{t}/{p.name}" for t, p in SEEDS])
def test_seed_corpus_keeps_the_contract(target: str, path: Path) -> None:
    """Every seed runs through its target cleanly, known issues included (strict)."""
    targets.run(target, path.read_bytes(), strict=True)


@pytest.mark.parametrize(("target", "path"), REGRESSIONS, ids=[f"{t}/{p.name}" for t, p in REGRESSIONS])
def test_saved_fuzz_inputs_keep_the_contract(target: str, path: Path) -> None:
    """Every input a campaign found runs through its target; an open known issue is tolerated."""
    targets.run(target, path.read_bytes())


def test_known_issues_each_have_a_regression_test() -> None:
    """Each tolerated issue names a test in this file, which holds it as an xfail."""
    for issue in targets.KNOWN_ISSUES:
        test = globals()[issue.test]
        marks = [mark for mark in getattr(test, "pytestmark", []) if mark.name == "xfail"]
        assert marks, f"{issue.test} should be an xfail while the issue is open"
        assert marks[0].kwargs["raises"] is issue.error


# --------------------------------------------------------------------------------------------
# Findings: sign server answers (fixed in _sign_common.signed_url_parts)
# --------------------------------------------------------------------------------------------

# Found by the "http" target in its first seconds: a signedUrl whose host opens an IPv6 literal it
# never closes makes urllib.parse.urlsplit raise ValueError, which the signers let through.
BAD_SIGNED_URL = "https://[webcast.tiktok.com/webcast/im/fetch/?msToken=abc"


def test_legacy_signer_malformed_signed_url() -> None:
    """An unparsable signedUrl from the old sign server is a SignerError (an HTTPError), not ValueError."""
    body = json.dumps({"signedUrl": BAD_SIGNED_URL, "User-Agent": "UA", "msToken": "abc"}).encode()
    with pytest.raises(HTTPError):
        LegacySigner().parse_sign_response(Response(200, (("Content-Type", "application/json"),), body))


def test_euler_signer_malformed_signed_url() -> None:
    """The same signedUrl from Euler Stream is a SignerError (an HTTPError), not ValueError."""
    answer = {"signedUrl": BAD_SIGNED_URL, "userAgent": "UA", "tokens": {"msToken": "abc"}}
    body = json.dumps({"code": 200, "response": answer}).encode()
    with pytest.raises(HTTPError):
        EulerSigner().parse_sign_response(Response(200, (("Content-Type", "application/json"),), body))


# --------------------------------------------------------------------------------------------
# Findings: the mock side's ServerConnection (fixed in server._query)
# --------------------------------------------------------------------------------------------


def test_server_malformed_request_url() -> None:
    """A client's request or socket URL that urllib cannot split is a RemoteProtocolError for the server.

    Found by the "server" target: ``handle_fetch_request`` and ``websocket_opened`` split the URL with
    urlsplit, which raises ValueError on an unclosed IPv6 literal.
    """
    server = ServerConnection(room_id=ROOM_ID)
    with pytest.raises(RemoteProtocolError):
        server.handle_fetch_request(Request("GET", f"http://[x/webcast/im/fetch/?room_id={ROOM_ID}"))
    with pytest.raises(RemoteProtocolError):
        server.websocket_opened(f"ws://[x/?room_id={ROOM_ID}")


# --------------------------------------------------------------------------------------------
# Findings: the client connection (fixed in ClientConnection._on_msg_frame)
# --------------------------------------------------------------------------------------------


def _streaming_client() -> ClientConnection:
    conn = ClientConnection(room_id=ROOM_ID)
    conn.start()
    conn.receive_fetch_response(codec.encode_fetch_result(fx.fetch_result(cursor="c")), NOW)
    conn.websocket_opened(NOW)
    conn.data_to_send()
    return conn


def oversized_ack_frame() -> bytes:
    """A 2 KiB msg frame whose fetch result's internal_ext (echoed by the ack) is 1 MiB + 1 byte."""
    result = fx.fetch_result([fx.chat()], internal_ext="x" * (1024 * 1024 + 1))
    return codec.encode_push_frame(
        payload_type="msg", payload=codec.gzip_compress(codec.encode_fetch_result(result))
    )


def test_ack_past_max_pending_bytes_is_the_peers_fault() -> None:
    """A frame whose ack alone passes max_pending_bytes is a RemoteProtocolError, even when the caller
    drains data_to_send() after every call (found by review of the "connection" target's contract).

    The ack echoes the fetch result's internal_ext (SPEC.md §4.3), which the peer chooses and which
    may inflate to max_decompressed_size (8 MiB) past max_pending_bytes (1 MiB). The connection
    raises LocalProtocolError ("drain data_to_send() after every call") and stays STREAMING, telling a
    well-behaved caller it had a bug. Now a reply too big for an empty queue is the peer's doing.
    """
    conn = _streaming_client()
    frame = oversized_ack_frame()
    assert len(frame) < 4096
    with pytest.raises(RemoteProtocolError, match="max_pending_bytes"):
        conn.receive_ws_message(frame, NOW)
    assert conn.state is State.DISCONNECTED


# --------------------------------------------------------------------------------------------
# Findings: the live page's SIGI_STATE lookup (fixed in _room_lookup._sigi_state_text)
# --------------------------------------------------------------------------------------------


def test_live_page_full_of_opening_tags_is_parsed_in_linear_time() -> None:
    """A page of many ``<script`` openings and no SIGI_STATE is refused as a block page.

    As one regex the lookup rescanned the page from every opening tag: 160 KB took 26 s, so this
    1.6 MB page would not finish in any test run. Now it is two linear scans.
    """
    page = ("<script " * 200_000).encode()
    with pytest.raises(CaptchaRequired, match="no SIGI_STATE"):
        parse_live_page(Response(200, (("Content-Type", "text/html"),), page))


@pytest.mark.parametrize("attributes", ['id="SIGI_STATE" type="application/json"', "ID='SIGI_STATE'"])
def test_live_page_lookup_finds_the_first_complete_script(attributes: str) -> None:
    """The two-step lookup reads what the documented pattern reads: the first SIGI_STATE script that
    is closed, case-insensitively."""
    state = '{"LiveRoom": {"liveRoomUserInfo": {"user": {"roomId": "7", "uniqueId": "a", "status": 2}}}}'
    html = f"<html><SCRIPT {attributes}>{state}</Script><script>x</script></html>"
    found = parse_live_page(Response(200, (("Content-Type", "text/html"),), html.encode()))
    assert found.room_id == 7
    match = SIGI_STATE_PATTERN.search(html)
    assert match is not None
    assert match.group(1) == state
