"""The README's signer example: sign the first fetch through a sign server of your own.

Any object with ``sign_request`` and ``parse_sign_response`` is a ``webcast_proto.signing.Signer``;
it describes the sign-server request, the client performs it. This one speaks the old
``GET /webcast/sign_url?url=…`` protocol (the mock server answers it too).

    SIGN_SERVER=https://sign.example.com python examples/custom_signer.py @username
"""

# ruff: noqa: T201, TC001  # an example prints what it receives; its imports read plainly

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlencode

import anyio

from webcast_proto import Chat
from webcast_proto.http import Request, Response
from webcast_proto.signing import SignedUrl
from webcast_transports import TikTokLiveClient

SIGN_SERVER = os.environ.get("SIGN_SERVER", "http://127.0.0.1:8080")


class MySigner:
    def sign_request(self, request: Request) -> Request | None:
        return Request("GET", f"{SIGN_SERVER}/webcast/sign_url?{urlencode({'url': request.url})}")

    def parse_sign_response(self, response: Response) -> SignedUrl:
        answer = json.loads(response.body)
        return SignedUrl(url=answer["signedUrl"], user_agent=answer.get("User-Agent"))


client = TikTokLiveClient(sys.argv[1], signer=MySigner())


@client.on("chat")
def on_chat(event: Chat) -> None:
    print(f"{event.user.nickname}: {event.comment}")


anyio.run(client.run)
