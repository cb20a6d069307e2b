"""How events look on a terminal, and as JSON Lines.

Human lines are columns — time, room (when several), what, who, the rest — aligned by display
width (a CJK character or an emoji takes two cells), coloured when the output is a terminal and
``NO_COLOR`` is not set (https://no-color.org), plain otherwise. Every text that came from the peer
is put on one line and stripped of control characters first, so a chat message cannot move the
cursor, clear the screen or forge a line of its own.

JSON Lines are ``Event.to_dict()`` with the room's username under ``"room"``: one object per line,
ids as strings, stable snake_case names, ready for ``jq``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TextIO

from webcast_proto import (
    ArmiesTriggerReason,
    BattleAction,
    Chat,
    Connected,
    Control,
    Disconnected,
    Emote,
    Envelope,
    Event,
    Gift,
    GiftStreakEnded,
    Like,
    LinkMicArmies,
    LinkMicBattle,
    LiveIntro,
    Member,
    ProtocolWarning,
    QuestionNew,
    RoomUser,
    Social,
    SocialKind,
    StreamEnd,
    Subscribe,
    UnknownMessage,
    User,
    WebSocketConnected,
)
from webcast_transports._events import Reconnecting

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "HumanPrinter",
    "JsonPrinter",
    "Printer",
    "Style",
    "clean",
    "display_width",
    "fit",
    "silence_stdout",
    "use_color",
]

# -- terminal text ----------------------------------------------------------------------------

# Bidirectional overrides and isolates: they can make a line display as something it is not.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str) -> str:
    """``text`` on one line, without control characters (C0, C1, DEL) or bidi overrides."""
    out = []
    for char in text:
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            out.append(" ")
        else:
            out.append(char)
    return " ".join("".join(out).split())


_EMOJI_PRESENTATION: Final = "\ufe0f"  # VS16: the character before it is drawn as a (wide) emoji


def _char_width(char: str) -> int:
    if char == _EMOJI_PRESENTATION:
        return 1  # widens the narrow character before it (🎙 + VS16 is two cells)
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """How many terminal cells ``text`` takes (wide characters two, combining marks none)."""
    width = 0
    previous = ""
    for char in text:
        if char == _EMOJI_PRESENTATION and _char_width(previous) != 1:
            continue  # already wide, or nothing to widen
        width += _char_width(char)
        previous = char
    return width


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells (ending in ``…`` when cut) and padded to exactly ``width``."""
    if display_width(text) > width:
        out, used = [], 0
        for char in text:
            w = _char_width(char)
            if used + w > width - 1:
                break
            out.append(char)
            used += w
        text = "".join(out) + "…"
    return text + " " * max(width - display_width(text), 0)


def use_color(mode: str, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour: ``always``, ``never``, or ``auto`` (a terminal, and ``NO_COLOR`` unset or empty)."""
    if mode != "auto":
        return mode == "always"
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Style:
    """ANSI styles, or nothing when colour is off."""

    _CODES: Final = {
        "bold": "1",
        "dim": "2",
        "red": "31",
        "green": "32",
        "yellow": "33",
        "blue": "34",
        "magenta": "35",
        "cyan": "36",
        "bright_magenta": "95",
        "bright_yellow": "93",
        "bright_cyan": "96",
    }

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(self._CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


# -- one line per event ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """An event as columns: its ``kind`` label (coloured ``color``), ``who`` and the ``text``."""

    kind: str
    color: str
    who: str = ""
    text: str = ""


def _who(user: User | None) -> str:
    if user is None:
        return ""
    name = user.nickname or user.unique_id or (f"user {user.user_id}" if user.user_id else "")
    return clean(name)


def _count(n: int) -> str:
    return f"{n:,}"


def _chat(e: Chat) -> Line:
    return Line("chat", "cyan", _who(e.user), clean(e.comment))


def _gift(e: Gift) -> Line:
    name = clean(e.gift_name) or f"gift {e.gift_id}"
    diamonds = f" ({_count(e.total_diamonds)} 💎)" if e.diamond_count else ""
    if e.is_streak_in_progress:
        return Line("gift", "magenta", _who(e.user), f"{name} ×{e.repeat_count} …")
    return Line("gift", "magenta", _who(e.user), f"sent {name} ×{max(e.repeat_count, 1)}{diamonds}")


def _member(e: Member) -> Line:
    return Line("join", "green", _who(e.user), "joined")


def _like(e: Like) -> Line:
    return Line(
        "like",
        "red",
        _who(e.user),
        f"sent {_count(e.like_count)} likes ({_count(e.total_like_count)} in all)",
    )


_SOCIAL: Final = {
    SocialKind.FOLLOW: ("follow", "followed the host"),
    SocialKind.SHARE: ("share", "shared the stream"),
    SocialKind.OTHER: ("social", "did something social"),
}


def _social(e: Social) -> Line:
    kind, text = _SOCIAL[e.kind]
    if e.users_joined:
        text += f" ({e.users_joined} joined through it)"
    return Line(kind, "yellow", _who(e.user), text)


def _room_user(e: RoomUser) -> Line:
    return Line("viewers", "blue", "", f"{_count(e.viewer_count)} watching")


def _emote(e: Emote) -> Line:
    return Line("emote", "cyan", _who(e.user), f"sent an emote ({clean(e.emote_id)})")


def _envelope(e: Envelope) -> Line:
    sender = _who(e.sender) or clean(e.send_user_name)
    return Line(
        "chest", "bright_yellow", sender, f"treasure chest: {_count(e.coins)} coins for {e.can_open} viewers"
    )


def _question(e: QuestionNew) -> Line:
    return Line("question", "bright_cyan", _who(e.user), clean(e.question_text))


def _battle(e: LinkMicBattle) -> Line:
    hosts = " vs ".join(clean(u.nickname or u.unique_id) for u in e.battle_users)
    action = e.action.name.lower().replace("_", " ") if isinstance(e.action, BattleAction) else str(e.action)
    text = f"battle {action}" + (f": {hosts}" if hosts else "")
    if e.battle_results:
        names = {u.user_id: clean(u.nickname or u.unique_id) for u in e.battle_users}
        winners = [names.get(r.user_id, str(r.user_id)) for r in e.battle_results if r.result == 0]
        if winners:
            text += f" — {', '.join(winners)} won"
    return Line("battle", "bright_magenta", "", text)


def _armies(e: LinkMicArmies) -> Line:
    sides = ", ".join(f"{a.host_user_id}: {_count(a.points)}" for a in e.battle_armies)
    final = " (final)" if e.battle_status == ArmiesTriggerReason.BATTLE_END else ""
    return Line("armies", "bright_magenta", "", f"points {sides}{final}")


def _intro(e: LiveIntro) -> Line:
    return Line("intro", "blue", _who(e.user), clean(e.description))


def _subscribe(e: Subscribe) -> Line:
    month = f" (month {e.sub_month})" if e.sub_month else ""
    return Line("subscribe", "bright_yellow", _who(e.user), f"subscribed{month}")


def _control(e: Control) -> Line:
    return Line("control", "dim", "", f"control action {e.action}" + (f": {clean(e.tips)}" if e.tips else ""))


def _stream_end(e: StreamEnd) -> Line:
    by = {3: "by the host", 4: "by TikTok"}.get(int(e.action), f"action {e.action}")
    return Line("end", "bold", "", f"the stream ended ({by})")


def _unknown(e: UnknownMessage) -> Line:
    return Line("unknown", "dim", "", f"{clean(e.method)} ({len(e.payload)} bytes)")


def _warning(e: ProtocolWarning) -> Line:
    return Line("warning", "red", "", clean(e.message))


def _streak_ended(e: GiftStreakEnded) -> Line:
    return Line(
        "streak",
        "magenta",
        _who(e.user),
        f"{clean(e.gift_name)} ×{e.final_count} ({_count(e.total_diamonds)} 💎)",
    )


def _connected(e: Connected) -> Line:
    return Line("connected", "green", "", f"room {e.room_id}")


def _socket(e: WebSocketConnected) -> Line:
    return Line("socket", "dim", "", "push WebSocket open")


def _reconnecting(e: Reconnecting) -> Line:
    code = f" {e.code}" if e.code is not None else ""
    why = f": {clean(e.error)}" if e.error else ""
    return Line("reconnect", "yellow", "", f"{e.reason}{code}{why}; attempt {e.attempt} in {e.delay:.1f} s")


def _disconnected(e: Disconnected) -> Line:
    code = f", code {e.code}" if e.code is not None else ""
    return Line("disconnected", "bold", "", f"{e.reason}{code}")


_LINES: Final[Mapping[type[Event], Callable[[Any], Line]]] = {
    Chat: _chat,
    Gift: _gift,
    Member: _member,
    Like: _like,
    Social: _social,
    RoomUser: _room_user,
    Emote: _emote,
    Envelope: _envelope,
    QuestionNew: _question,
    LinkMicBattle: _battle,
    LinkMicArmies: _armies,
    LiveIntro: _intro,
    Subscribe: _subscribe,
    Control: _control,
    StreamEnd: _stream_end,
    UnknownMessage: _unknown,
    ProtocolWarning: _warning,
    GiftStreakEnded: _streak_ended,
    Connected: _connected,
    WebSocketConnected: _socket,
    Reconnecting: _reconnecting,
    Disconnected: _disconnected,
}
"""One formatter per event class (dispatch on the class, STYLE.md §15)."""


def line_of(event: Event) -> Line:
    """The event's columns; a class without a formatter of its own (a user's converter's) is named."""
    for cls in type(event).__mro__:
        formatter = _LINES.get(cls)
        if formatter is not None:
            return formatter(event)
    return Line(type(event).__name__, "dim")


# -- printers ---------------------------------------------------------------------------------

_KIND_WIDTH: Final = 12
_WHO_WIDTH: Final = 20
_ROOM_WIDTH: Final = 16


def silence_stdout() -> None:
    """Point the process's stdout at the null device: its reader has gone (``| head``), and what is
    still buffered or written later must not fail (Python's documented remedy for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to silence
        pass


class _Output:
    """Writes lines, flushing each; when the reader goes away (``| head``), stops quietly and says so."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.closed = False
        self.on_closed: Callable[[], None] | None = None

    def write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except BrokenPipeError:
            self.closed = True
            silence_stdout()
            if self.on_closed is not None:
                self.on_closed()


class HumanPrinter(_Output):
    """Writes events as aligned lines.

    Args:
        out: where to write (flushed after every line, so a pipe sees each line at once).
        color: colour the output.
        show_room: add a column with the room's username (several rooms).
    """

    def __init__(self, out: TextIO, *, color: bool, show_room: bool = False) -> None:
        super().__init__(out)
        self.style = Style(color)
        self._show_room = show_room

    def print(self, event: Event, *, room: str = "", at: float | None = None) -> None:
        """Write one event; ``at`` is the wall-clock time it happened (now if omitted)."""
        line = line_of(event)
        stamp = time.strftime("%H:%M:%S", time.localtime(time.time() if at is None else at))
        parts = [self.style(stamp, "dim")]
        if self._show_room:
            parts.append(self.style(fit(f"@{room}", _ROOM_WIDTH), "bold"))
        parts.append(self.style(fit(line.kind, _KIND_WIDTH), line.color))
        if line.who or line.text:
            parts.append(self.style(fit(line.who, _WHO_WIDTH), "bold"))
            parts.append(line.text)
        self.write("  ".join(parts).rstrip() + "\n")

    def note(self, text: str) -> None:
        """Write a line of the command's own (a header, a summary)."""
        self.write(text + "\n")


class JsonPrinter(_Output):
    """Writes events as JSON Lines: ``{"room": …, "type": …, …Event.to_dict()}``.

    Args:
        out: where to write (flushed after every line).
    """

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("_", "-")
        self._ascii = encoding not in ("utf-8", "utf8")  # \u escapes where the stream cannot hold UTF-8

    def print(self, event: Event, *, room: str = "", at: float | None = None) -> None:
        """Write one event (``at`` is not part of the JSON: events carry their own times)."""
        document = {"room": room, **event.to_dict()}
        self.write(json.dumps(document, ensure_ascii=self._ascii) + "\n")

    def note(self, text: str) -> None:
        """Nothing: JSON output is events only."""


Printer = HumanPrinter | JsonPrinter
