"""Scenario files: JSON describing rooms, history and a timeline (format in docs/mock-server.md),
or a recording made by ``webcast record`` (docs/recordings.md), played again.

Messages are written as calls of the fixture builders (``{"type": "chat", "comment": "hi"}`` is
``fixtures.chat(comment="hi")``), as a few conveniences (a whole gift streak, a realistic mix), or
as raw envelopes (``method`` + base64 ``payload``), e.g. copied from a recording. Every mistake is
reported as a ``ValueError`` naming where in the file it is.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from webcast_proto import fixtures
from webcast_proto._pb import webcast_pb2 as pb
from webcast_proto.recording import RecordingError
from webcast_transports.mock._builtin import BUILTIN_SCENARIOS, builtin_scenario
from webcast_transports.mock._recorded import is_recording, scenario_from_recording
from webcast_transports.mock._rooms import Room
from webcast_transports.mock._scenarios import (
    Action,
    CloseSocket,
    DropMidFrame,
    EndStream,
    GarbageFrame,
    HttpFault,
    RefuseHandshake,
    Scenario,
    Send,
    SetStatus,
    Stall,
    Step,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["load_scenario", "scenario_from_json"]

# Message types a file may name, and the fixture builder each calls.
_BUILDERS: Final[Mapping[str, Callable[..., fixtures.WebcastMessage]]] = {
    "chat": fixtures.chat,
    "member": fixtures.member,
    "gift": fixtures.gift,
    "like": fixtures.like,
    "social": fixtures.social,
    "social_follow": fixtures.social_follow,
    "social_share": fixtures.social_share,
    "room_user_seq": fixtures.room_user_seq,
    "emote_chat": fixtures.emote_chat,
    "envelope": fixtures.envelope,
    "question_new": fixtures.question_new,
    "link_mic_battle": fixtures.link_mic_battle,
    "link_mic_armies": fixtures.link_mic_armies,
    "live_intro": fixtures.live_intro,
    "sub_notify": fixtures.sub_notify,
    "control": fixtures.control,
}

# Keywords whose value is a user: a JSON object of fixtures.user() keywords.
_USER_KEYS: Final = frozenset({"user", "to_user", "at_user", "sender"})

_BADGES: Final[Mapping[str, Callable[..., pb.BadgeStruct]]] = {
    "moderator": fixtures.moderator_badge,
    "subscriber": fixtures.subscriber_badge,
    "new_gifter": fixtures.new_gifter_badge,
    "top_gifter": fixtures.top_gifter_badge,
    "gifter_level": fixtures.gifter_level_badge,
    "team_member": fixtures.team_member_badge,
}


class _FileError(ValueError):
    pass


def _fail(where: str, message: str) -> _FileError:
    return _FileError(f"{where}: {message}")


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(where, f"expected a list, got {type(value).__name__}")
    return value


def _badge(spec: object, where: str) -> pb.BadgeStruct:
    """``"moderator"``, ``"top_gifter:2"``, ``"gifter_level:12"`` …"""
    if not isinstance(spec, str):
        raise _fail(where, "a badge is a string such as 'moderator' or 'top_gifter:2'")
    name, _, arg = spec.partition(":")
    builder = _BADGES.get(name)
    if builder is None:
        raise _fail(where, f"unknown badge {name!r}; known: {', '.join(sorted(_BADGES))}")
    return builder(int(arg)) if arg else builder()


def _user(spec: object, where: str) -> pb.User:
    fields = dict(_obj(spec, where))
    fields["badges"] = [
        _badge(b, f"{where}.badges[{i}]") for i, b in enumerate(_list(fields.get("badges", []), where))
    ]
    if "user_id" in fields:
        fields["user_id"] = int(fields["user_id"])
    try:
        return fixtures.user(**fields)
    except TypeError as exc:
        raise _fail(where, str(exc)) from exc


def _kwargs(spec: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "type":
            continue
        if key in _USER_KEYS:
            out[key] = _user(value, f"{where}.{key}")
        elif key == "top_viewers":
            out[key] = [
                (_user(u, f"{where}.top_viewers[{i}]"), int(c))
                for i, (u, c) in enumerate(_list(value, where))
            ]
        elif key == "anchors":
            out[key] = [
                fixtures.battle_anchor(**_obj(a, f"{where}.anchors[{i}]"))
                for i, a in enumerate(_list(value, where))
            ]
        elif key == "results":
            out[key] = [
                fixtures.battle_result(**_obj(r, f"{where}.results[{i}]"))
                for i, r in enumerate(_list(value, where))
            ]
        elif key == "armies":
            out[key] = {
                int(host): fixtures.army(
                    int(_obj(side, f"{where}.armies.{host}").get("points", 0)),
                    [
                        fixtures.army_participant(**_obj(p, f"{where}.armies.{host}.participants[{i}]"))
                        for i, p in enumerate(_list(side.get("participants", []), where))
                    ],
                )
                for host, side in _obj(value, f"{where}.armies").items()
            }
        elif key in (
            "msg_id",
            "room_id",
            "group_id",
            "battle_id",
            "question_id",
            "gift_id",
            "receiver_user_id",
        ):
            out[key] = int(value)
        else:
            out[key] = value
    return out  # fmt: skip


def _gift_streak(spec: dict[str, Any], where: str) -> list[pb.BaseProtoMessage]:
    """``{"type": "gift_streak", "gift_id": 5655, "count": 5, "user": {…}}``: count in-progress
    events then the final one (SPEC.md §8), sharing a group id."""
    count = int(spec.get("count", 1))
    if count < 1:
        raise _fail(where, "a gift streak needs count >= 1")
    group_id = int(spec.get("group_id", fixtures.next_id()))
    gift_id = int(spec.get("gift_id", 5655))
    user = _user(spec["user"], f"{where}.user") if "user" in spec else fixtures.user()
    gifts = [
        fixtures.gift(gift_id, user=user, repeat_count=n, repeat_end=False, group_id=group_id)
        for n in range(1, count + 1)
    ]
    gifts.append(fixtures.gift(gift_id, user=user, repeat_count=count, repeat_end=True, group_id=group_id))
    return [fixtures.wrap(g) for g in gifts]


def _messages(spec: object, where: str) -> list[pb.BaseProtoMessage]:
    """One message spec → its envelope(s)."""
    fields = _obj(spec, where)
    if "payload_b64" in fields:
        try:
            payload = base64.b64decode(fields["payload_b64"], validate=True)
        except ValueError as exc:
            raise _fail(where, f"payload_b64 is not base64: {exc}") from exc
        method = fields.get("method")
        if not isinstance(method, str) or not method:
            raise _fail(where, "a raw message needs a 'method'")
        return [pb.BaseProtoMessage(method=method, payload=payload, msg_id=int(fields.get("msg_id", 0)))]
    kind = fields.get("type")
    if kind == "gift_streak":
        return _gift_streak(fields, where)
    if kind == "mix":
        return fixtures.realistic_mix(int(fields.get("count", 10)), seed=int(fields.get("seed", 0)))
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        known = ", ".join(sorted([*_BUILDERS, "gift_streak", "mix"]))
        raise _fail(where, f"unknown message type {kind!r}; known: {known}, or 'method' + 'payload_b64'")
    try:
        return [fixtures.wrap(builder(**_kwargs(fields, where)))]
    except (TypeError, ValueError) as exc:
        raise _fail(where, f"{kind}: {exc}") from exc


def _message_list(value: object, where: str) -> list[pb.BaseProtoMessage]:
    items = [value] if isinstance(value, dict) else _list(value, where)
    return [m for i, item in enumerate(items) for m in _messages(item, f"{where}[{i}]")]


def _action(spec: dict[str, Any], where: str) -> Action:
    kind = spec.get("do", "send")
    args = {k: v for k, v in spec.items() if k not in ("at", "do")}
    try:
        match kind:
            case "send":
                return Send(_message_list(args.get("messages", []), f"{where}.messages"))
            case "drop_mid_frame":
                return DropMidFrame(**args)
            case "stall":
                return Stall(**args)
            case "garbage_frame":
                data = bytes.fromhex(args["data_hex"]) if "data_hex" in args else None
                return GarbageFrame() if data is None else GarbageFrame(data=data)
            case "close_socket":
                return CloseSocket(**args)
            case "end_stream":
                return EndStream(**args)
            case "set_status":
                return SetStatus(**args)
            case "http_fault":
                return HttpFault(**args)
            case "refuse_handshake":
                return RefuseHandshake(**args)
    except (TypeError, ValueError) as exc:
        raise _fail(where, f"{kind}: {exc}") from exc
    raise _fail(
        where,
        f"unknown action {kind!r}; known: send, drop_mid_frame, stall, garbage_frame, close_socket, "
        "end_stream, set_status, http_fault, refuse_handshake",
    )


def scenario_from_json(
    document: Mapping[str, object], *, where: str = "scenario"
) -> tuple[Scenario, list[Room]]:
    """Build a scenario (and the rooms that play it) from a parsed scenario file.

    Args:
        document: the JSON object.
        where: a name for error messages (the file name).

    Returns:
        The scenario and the file's rooms (empty when the file names none: the caller's default
        room plays it). A room naming a built-in ``scenario`` plays that one instead.

    Raises:
        ValueError: anything malformed; the message says where.
    """
    doc = _obj(document, where)
    name = doc.get("name", "file")
    steps = []
    for i, step in enumerate(_list(doc.get("steps", []), f"{where}.steps")):
        step_obj = _obj(step, f"{where}.steps[{i}]")
        at = step_obj.get("at", 0)
        if not isinstance(at, (int, float)) or isinstance(at, bool) or at < 0:
            raise _fail(f"{where}.steps[{i}].at", f"expected seconds >= 0, got {at!r}")
        steps.append(Step(float(at), _action(step_obj, f"{where}.steps[{i}]")))
    history = _message_list(doc.get("history", []), f"{where}.history")
    scenario = Scenario(str(name), steps, history=history, description=str(doc.get("description", "")))
    rooms = []
    for i, spec in enumerate(_list(doc.get("rooms", []), f"{where}.rooms")):
        fields = dict(_obj(spec, f"{where}.rooms[{i}]"))
        own = fields.pop("scenario", None)
        if own is not None and own not in BUILTIN_SCENARIOS:
            raise _fail(f"{where}.rooms[{i}].scenario", f"unknown built-in scenario {own!r}")
        for key in ("room_id", "user_id"):
            if key in fields:
                fields[key] = int(fields[key])
        try:
            rooms.append(Room(**fields, scenario=builtin_scenario(own) if own else scenario))
        except (TypeError, ValueError) as exc:
            raise _fail(f"{where}.rooms[{i}]", str(exc)) from exc
    return scenario, rooms


def load_scenario(source: str | Path) -> tuple[Scenario, list[Room]]:
    """A built-in scenario by name, a scenario file (JSON) or a recording (JSON Lines) by path.

    Returns:
        The scenario and the rooms the file defines (none for a built-in; the recorded room for a
        recording).

    Raises:
        ValueError: unknown name, unreadable or malformed file.
    """
    if isinstance(source, str) and source in BUILTIN_SCENARIOS:
        return builtin_scenario(source), []
    path = Path(source)
    try:
        data = path.read_bytes()
        if is_recording(data):
            try:
                return scenario_from_recording(data, name=path.name)
            except RecordingError as exc:
                raise ValueError(f"{path}: {exc.message}") from exc
        document = json.loads(data.decode("utf-8"))
    except OSError as exc:
        known = ", ".join(sorted(BUILTIN_SCENARIOS))
        raise ValueError(
            f"{source}: neither a built-in scenario ({known}) nor a readable file: {exc}"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from exc
    return scenario_from_json(document, where=path.name)
