"""``webcast info @user`` and ``webcast gifts @user``: a room's info and its gift list, without
connecting to the stream. A table for people, ``--json`` for programs (ids as strings, as in
events). An offline room's info is still shown (status ``offline``): only a failure to read it is an
error."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

from webcast_proto import WebcastError
from webcast_proto.http import RoomStatus
from webcast_transports._sync.client import SyncTikTokLiveClient
from webcast_transports.cli._common import EXIT_OK, UsageError, describe_failure
from webcast_transports.cli._output import Style, clean, fit, use_color

if TYPE_CHECKING:
    import argparse

    from webcast_proto import GiftInfo
    from webcast_proto.http import RoomInfo
    from webcast_transports.cli._common import ClientOptions

__all__ = ["gifts", "info"]


def _client(ns: argparse.Namespace, options: ClientOptions) -> SyncTikTokLiveClient:
    try:
        return SyncTikTokLiveClient(ns.user, **options.as_kwargs())  # type: ignore[arg-type]  # checked by the client
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def _fail(error: WebcastError, who: str, options: ClientOptions) -> int:
    status, message = describe_failure(error, who, options.redact)
    sys.stderr.write(message + "\n")
    return status


def _status_name(status: int) -> str:
    names: dict[int, str] = {
        RoomStatus.LIVE: "live",
        RoomStatus.PAUSED: "paused",
        RoomStatus.ENDED: "offline",
    }
    return names.get(int(status), f"status {status}")


def room_info_json(unique_id: str, info: RoomInfo) -> dict[str, object]:
    """The room info as JSON: its modelled fields, ids as strings."""
    owner = info.owner
    return {
        "unique_id": unique_id,
        "room_id": str(info.room_id),
        "status": int(info.status),
        "is_live": info.is_live,
        "title": info.title,
        "owner": None
        if owner is None
        else {
            "user_id": str(owner.user_id),
            "unique_id": owner.unique_id,
            "nickname": owner.nickname,
            "bio_description": owner.bio_description,
            "avatar_url": owner.avatar_url,
        },
        "create_time": info.create_time,
        "user_count": info.user_count,
        "hls_pull_url": info.hls_pull_url,
    }


def info(ns: argparse.Namespace, options: ClientOptions) -> int:
    """``webcast info @user [--json]``."""
    client = _client(ns, options)
    who = f"@{client.unique_id}"
    try:
        room = client.get_room_info()
    except WebcastError as exc:
        return _fail(exc, who, options)
    if ns.json:
        sys.stdout.write(json.dumps(room_info_json(client.unique_id, room), ensure_ascii=False) + "\n")
        return EXIT_OK
    style = Style(use_color(ns.color, sys.stdout))
    owner = room.owner
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(room.create_time)) if room.create_time else ""
    rows = [
        ("user", who),
        ("room", str(room.room_id)),
        ("status", style(_status_name(room.status), "green" if room.is_live else "yellow")),
        ("title", clean(room.title)),
        ("host", "" if owner is None else f"{clean(owner.nickname)} (@{clean(owner.unique_id)})"),
        ("viewers", f"{room.user_count:,}"),
        ("started", started),
        ("stream", room.hls_pull_url or ""),
    ]
    for name, value in rows:
        if value:
            sys.stdout.write(f"{style(fit(name, 9), 'dim')} {value}\n")
    return EXIT_OK


def gifts(ns: argparse.Namespace, options: ClientOptions) -> int:
    """``webcast gifts @user [--json]``: the gift list, cheapest first."""
    client = _client(ns, options)
    try:
        found = client.get_available_gifts()
    except WebcastError as exc:
        return _fail(exc, f"@{client.unique_id}", options)
    ordered: list[GiftInfo] = sorted(found, key=lambda g: (g.diamond_count, g.id))
    if ns.json:
        sys.stdout.write(json.dumps([g.to_dict() for g in ordered], ensure_ascii=False) + "\n")
        return EXIT_OK
    style = Style(use_color(ns.color, sys.stdout))
    sys.stdout.write(style(f"{fit('id', 10)}  {fit('name', 24)}  {'diamonds':>8}  type", "bold") + "\n")
    for gift in ordered:
        name = fit(clean(gift.name), 24)
        sys.stdout.write(f"{gift.id:<10}  {name}  {gift.diamond_count:>8,}  {gift.type}\n")
    sys.stdout.write(style(f"{len(ordered)} gifts", "dim") + "\n")
    return EXIT_OK
