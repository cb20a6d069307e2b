"""The README's fixture example: a recorded session as test data, replayed offline.

Record a session once (``webcast record @user -o session.jsonl``); any test can then replay it into
the events the client delivered — through a ``ClientConnection``, so dedup and stream ends behave
as they did live — without a network or a server. Run it with pytest, or as a script.
"""

from __future__ import annotations

from pathlib import Path

from webcast_proto import Chat, Gift
from webcast_proto.recording import replay

RECORDING = Path(__file__).resolve().parent.parent / "tests" / "cli" / "data" / "short-session.jsonl"


def test_the_recorded_chat_and_gifts() -> None:
    events = replay(RECORDING.read_bytes())
    chats = [event.comment for event in events if isinstance(event, Chat)]
    assert chats == ["first!", "hi 👋", "back again", "on the socket again"]
    streaks = [event for event in events if isinstance(event, Gift) and event.is_final]
    assert [(gift.gift_name, gift.repeat_count) for gift in streaks] == [("Rose", 3)]


if __name__ == "__main__":
    test_the_recorded_chat_and_gifts()
    print("the recording replays as expected")  # noqa: T201  # the script's one line of output
