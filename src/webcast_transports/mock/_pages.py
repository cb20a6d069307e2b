"""The bodies of TikTok's web answers: the live page, the room-id API, room info, gifts, live check.

Shapes follow SPEC.md §2.2 and §2.3, with the keys the current and older clients read; values
are made up but realistic (decimal-string ids where TikTok sends strings, ms where it sends ms).
Where the spec says the full JSON is unknown (§11) we send what is known plus a few plausible
neighbours, and nothing a client could mistake for another signal (e.g. room info of a live room
always has many keys, since [TL] reads "≤ 1 key" as age-restricted).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webcast_transports.mock._rooms import RoomStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from webcast_transports.mock._rooms import RoomState

__all__ = [
    "GiftInfo",
    "api_room",
    "check_alive",
    "gift_list",
    "live_page",
    "room_info",
    "user_page",
]

# API statusCode for an unknown user (SPEC.md §2.2, §9).
USER_NOT_FOUND_CODE = 19881007
# room/info status_code for an unknown room id: not given by the spec (§11). The mock sends a non-zero
# code and no `data` object: a `data` with one key or none would read as age-restricted ([TL], §2.3).
ROOM_NOT_FOUND_CODE = 30003

_CDN = "https://p16-webcast.tiktokcdn.com/img/maliva/webcast-va"


@dataclass(frozen=True, slots=True)
class GiftInfo:
    """A gift of the catalogue (``gift/list`` and the gift messages of the scenarios).

    ``gift_type`` 1 gifts can be sent in streaks (SPEC.md §8).
    """

    id: int
    name: str
    diamond_count: int
    gift_type: int = 1

    @property
    def image_url(self) -> str:
        """The gift's picture, the URL the fixtures' gift messages carry for it."""
        return f"{_CDN}/gift_{self.id}.png~tplv-obj.png"

    def to_json(self) -> dict[str, object]:
        image = {"uri": f"webcast-va/{self.id}", "url_list": [self.image_url]}
        return {
            "id": self.id,
            "name": self.name,
            "diamond_count": self.diamond_count,
            "type": self.gift_type,
            "combo": self.gift_type == 1,
            "describe": f"sent {self.name}",
            "image": image,
            "icon": image,
        }


def _json_in_html(value: object) -> str:
    # Compact separators: the old clients' regex wants `roomId":"<digits>"` with no space (§2.2).
    # `</` is escaped so that a nickname cannot close the <script> element.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def _avatar_url(user_id: int) -> str:
    return f"https://p16-sign.tiktokcdn-us.com/tos-useast5-avt-0068-tx/{user_id}~100x100.webp"


def _avatar(user_id: int) -> dict[str, object]:
    return {"url_list": [_avatar_url(user_id)]}


def _user_json(state: RoomState) -> dict[str, object]:
    room = state.room
    return {
        "id": str(room.user_id),
        "uniqueId": room.unique_id,
        "nickname": room.nickname,
        "roomId": str(room.room_id),
        "secUid": f"MS4wLjABAAAA{room.user_id:x}",
        "signature": "",
        "verified": False,
        "status": state.status.code,
        "avatarThumb": _avatar_url(room.user_id),
    }


def _live_room_json(state: RoomState, now_ms: int) -> dict[str, object]:
    started = state.started_at
    return {
        "status": state.status.code,
        "title": state.room.title,
        "startTime": now_ms // 1000 if started is None else int(started),
        "streamId": str(state.room.room_id + 1),
        "liveRoomStats": {"userCount": 1000 + len(state.since(0)) % 997},
        "coverUrl": "",
    }


def live_page(unique_id: str, state: RoomState | None, now_ms: int) -> str:
    """``/@{user}/live``: the HTML page, with the room in ``SIGI_STATE`` (SPEC.md §2.2).

    A known user gets ``LiveRoom.liveRoomUserInfo`` (``user.roomId``, ``user.status``,
    ``liveRoom.status``); an unknown or not-found user a ``SIGI_STATE`` without ``LiveRoom``. The
    compact JSON carries ``"roomId":"<digits>"``, so the old clients' regex finds the id too; an
    ``og:url`` meta tag and a ``room_id=`` deep link complete what they look for.
    """
    sigi: dict[str, object] = {
        "AppContext": {"appContext": {"language": "en", "region": "US", "user": {}}},
        "SEO": {"metaParams": {"title": f"@{unique_id} LIVE"}},
    }
    deep_link = ""
    if state is not None and state.status is not RoomStatus.NOT_FOUND:
        sigi["LiveRoom"] = {
            "liveRoomUserInfo": {"user": _user_json(state), "liveRoom": _live_room_json(state, now_ms)},
            "loadingState": {"getRecommendLive": 1, "getUserInfo": 1},
        }
        deep_link = (
            f'<link rel="alternate" href="snssdk1233://live?room_id={state.room.room_id}&amp;from=web">'
        )
    name = html.escape(unique_id)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>@{name} LIVE | TikTok</title>"
        f'<meta property="og:url" content="https://www.tiktok.com/@{name}/live">'
        f'{deep_link}</head><body><div id="app"></div>'
        f'<script id="SIGI_STATE" type="application/json">{_json_in_html(sigi)}</script>'
        "</body></html>"
    )


def user_page(state: RoomState | None) -> str:
    """``/@{user}``: the profile page; [TL] reads the username of a numeric user id from it (§2.2)."""
    scope: dict[str, object] = {}
    if state is not None and state.status is not RoomStatus.NOT_FOUND:
        scope["webapp.user-detail"] = {
            "userInfo": {"user": _user_json(state), "stats": {"followerCount": 12345}},
            "statusCode": 0,
        }
    data = {"__DEFAULT_SCOPE__": scope}
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>TikTok</title></head><body>'
        f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{_json_in_html(data)}'
        "</script></body></html>"
    )


def api_room(state: RoomState | None, now_ms: int) -> dict[str, object]:
    """``/api-live/user/room/``: ``statusCode`` 0 with ``data.user.roomId`` and ``data.liveRoom.status``,
    or 19881007 ``user_not_found`` (SPEC.md §2.2)."""
    extra = {"fatal_item_ids": [], "logid": f"{now_ms}mock", "now": now_ms}
    if state is None or state.status is RoomStatus.NOT_FOUND:
        return {"data": {}, "extra": extra, "message": "user_not_found", "statusCode": USER_NOT_FOUND_CODE}
    return {
        "data": {"user": _user_json(state), "liveRoom": _live_room_json(state, now_ms)},
        "extra": extra,
        "message": "",
        "statusCode": 0,
    }


def room_info(state: RoomState | None, now_ms: int, *, has_session: bool, base_url: str) -> dict[str, object]:
    """``/webcast/room/info/``: the room under ``data`` (SPEC.md §2.3).

    An age-restricted room shows only ``data.prompts`` unless the request carries a session
    ([TL] reads ``prompts`` / ≤ 1 key as age-restricted; a session bypasses it).
    """
    extra = {"now": now_ms}
    if state is None or state.status is RoomStatus.NOT_FOUND:
        return {"data": None, "extra": extra, "message": "room not found", "status_code": ROOM_NOT_FOUND_CODE}
    if state.status is RoomStatus.AGE_RESTRICTED and not has_session:
        prompts = "This LIVE isn't available for people under 18. Log in to watch."
        return {"data": {"prompts": prompts}, "extra": extra, "status_code": 0}
    room = state.room
    stream_data = json.dumps(
        {"data": {"origin": {"main": {"flv": f"{base_url}/stream/{room.room_id}.flv", "sdk_params": "{}"}}}},
        separators=(",", ":"),
    )
    created = int(state.started_at) if state.started_at is not None else now_ms // 1000
    return {
        "data": {
            "id": room.room_id,
            "id_str": str(room.room_id),
            "status": state.status.code,
            "title": room.title,
            "create_time": created,
            "user_count": 1000 + len(state.since(0)) % 997,
            "owner_user_id": room.user_id,
            "owner": {
                "id": room.user_id,
                "id_str": str(room.user_id),
                "display_id": room.unique_id,
                "nickname": room.nickname,
                "bio_description": f"Hi, I'm {room.nickname}!",
                "avatar_thumb": _avatar(room.user_id),
                "sec_uid": f"MS4wLjABAAAA{room.user_id:x}",
            },
            "stream_url": {
                "hls_pull_url": f"{base_url}/stream/{room.room_id}.m3u8",
                "live_core_sdk_data": {"pull_data": {"stream_data": stream_data}},
            },
            "stats": {"total_user": 1000 + len(state.since(0)), "like_count": 0},
            "age_restricted": {"restricted": state.status is RoomStatus.AGE_RESTRICTED},
        },
        "extra": extra,
        "status_code": 0,
    }


def gift_list(gifts: Iterable[GiftInfo], now_ms: int) -> dict[str, object]:
    """``/webcast/gift/list/``: ``data.gifts[]`` with ``id``, ``name``, ``diamond_count`` … (§2.3)."""
    return {"data": {"gifts": [g.to_json() for g in gifts]}, "extra": {"now": now_ms}, "status_code": 0}


def check_alive(
    room_ids: Sequence[str], states: Sequence[RoomState | None], now_ms: int
) -> dict[str, object]:
    """``/webcast/room/check_alive/``: ``data[i].alive`` in request order (SPEC.md §2.1)."""
    data = []
    for room_id, state in zip(room_ids, states, strict=False):
        alive = state is not None and state.status in (RoomStatus.LIVE, RoomStatus.AGE_RESTRICTED)
        data.append(
            {"alive": alive, "room_id": int(room_id) if room_id.isdigit() else 0, "room_id_str": room_id}
        )
    return {"data": data, "extra": {"now": now_ms}, "status_code": 0}
