"""Endpoints, client params and limits (SPEC.md §2.1, §2.6, §3; STYLE.md §7)."""

from __future__ import annotations

import dataclasses

import pytest

from webcast_proto.config import (
    DEFAULT_CLIENT_PARAMS,
    DEFAULT_ENDPOINTS,
    DEFAULT_LIMITS,
    DEFAULT_USER_AGENT,
    LOCATION_PRESETS,
    SCREEN_PRESETS,
    ClientParams,
    Endpoints,
    Limits,
    LocationPreset,
    make_device_id,
)

WINDOWS_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/106.0.0.0 Safari/537.36"
)


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


def test_default_limits_are_positive() -> None:
    """Every default limit is a positive int."""
    for f in dataclasses.fields(Limits):
        assert getattr(DEFAULT_LIMITS, f.name) > 0


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_limits_reject_non_positive_ints(bad: object) -> None:
    """A limit that is not a positive int is refused on construction, naming the field."""
    with pytest.raises(ValueError, match="max_json_depth"):
        Limits(max_json_depth=bad)  # type: ignore[arg-type]  # the point is a wrong type


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def test_default_endpoints_are_the_peers_hosts() -> None:
    """Defaults are TikTok's web and WebCast hosts and Euler Stream (SPEC.md §2.1, §2.6)."""
    assert DEFAULT_ENDPOINTS.web == "https://www.tiktok.com"
    assert DEFAULT_ENDPOINTS.webcast == "https://webcast.tiktok.com/webcast"
    assert DEFAULT_ENDPOINTS.sign_server == "https://api.eulerstream.com"
    assert DEFAULT_ENDPOINTS.push_server is None


def test_endpoints_strip_one_trailing_slash_from_bases() -> None:
    """Base URLs are stored without a trailing slash, so builders can append ``/path/``."""
    endpoints = Endpoints(web="http://127.0.0.1:1/", webcast="http://127.0.0.1:1/webcast/")
    assert endpoints.web == "http://127.0.0.1:1"
    assert endpoints.webcast == "http://127.0.0.1:1/webcast"


def test_endpoints_from_base_url_points_everything_at_one_server() -> None:
    """One loopback base serves the web, WebCast (under /webcast) and sign-server roles."""
    endpoints = Endpoints.from_base_url("http://127.0.0.1:8080/", push_server="ws://127.0.0.1:8080/ws/")
    assert endpoints == Endpoints(
        web="http://127.0.0.1:8080",
        webcast="http://127.0.0.1:8080/webcast",
        sign_server="http://127.0.0.1:8080",
        push_server="ws://127.0.0.1:8080/ws/",
    )


def test_push_server_override_keeps_its_trailing_slash() -> None:
    """The push-server override is a full URL, whose path keeps its trailing slash (SPEC.md §2.1)."""
    url = "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/"
    assert Endpoints(push_server=url).push_server == url


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"web": "ftp://example.com"}, "absolute http:// or https://"),
        ({"web": "www.tiktok.com"}, "absolute"),
        ({"webcast": "https://webcast.tiktok.com/webcast?x=1"}, "query"),
        ({"sign_server": "https://a.example#frag"}, "fragment"),
        ({"sign_server": "https://a.example/ x"}, "spaces"),
        ({"sign_server": ""}, "non-empty"),
        ({"push_server": "https://webcast-ws.tiktok.com/"}, "ws:// or wss://"),
    ],
)
def test_endpoints_reject_invalid_urls(kwargs: dict[str, str], message: str) -> None:
    """Each URL must be absolute with the right scheme; bases have no query; none has a fragment."""
    with pytest.raises(ValueError, match=message):
        Endpoints(**kwargs)


def test_endpoints_reject_credentials_without_echoing_them() -> None:
    """A URL with user:password@ is refused, and the message does not repeat the password."""
    with pytest.raises(ValueError, match="credentials") as info:
        Endpoints(sign_server="https://user:hunter2@api.eulerstream.com")
    assert "hunter2" not in str(info.value)


# --------------------------------------------------------------------------------------------
# ClientParams
# --------------------------------------------------------------------------------------------


def test_http_query_items_are_the_current_peers_client_params() -> None:
    """The default HTTP params are SPEC.md §3.2's current columns with [C2]'s fixed preset (§3.1)."""
    params = dict(ClientParams(device_id="7212345678901234567").http_query_items())
    assert params == {
        "aid": "1988",
        "app_language": "en",
        "app_name": "tiktok_web",
        "browser_language": "en-DE",
        "browser_name": "Mozilla",
        "browser_online": "true",
        "browser_platform": "MacIntel",
        "browser_version": DEFAULT_USER_AGENT.partition("/")[2],
        "channel": "tiktok_web",
        "cookie_enabled": "true",
        "data_collection_enabled": "true",
        "device_id": "7212345678901234567",
        "device_platform": "web_pc",
        "focus_state": "true",
        "from_page": "user",
        "history_len": "10",
        "is_fullscreen": "false",
        "is_page_visible": "true",
        "os": "mac",
        "priority_region": "DE",
        "referer": "https://www.tiktok.com/",
        "region": "DE",
        "root_referer": "https://www.tiktok.com/",
        "screen_height": "1080",
        "screen_width": "1920",
        "tz_name": "Europe/Berlin",
        "user_is_login": "false",
        "webcast_language": "en",
    }


def test_device_id_is_left_out_when_not_given() -> None:
    """The core makes up no device id (SPEC.md §3.2 ids are random): without one, none is sent."""
    assert "device_id" not in dict(DEFAULT_CLIENT_PARAMS.http_query_items())


def test_browser_fields_are_derived_from_a_windows_user_agent() -> None:
    """Name = text before the first ``/``, version = the rest, Win32/windows without Macintosh (§3.1)."""
    params = dict(ClientParams(user_agent=WINDOWS_UA).http_query_items())
    assert params["browser_name"] == "Mozilla"
    assert params["browser_version"] == WINDOWS_UA.removeprefix("Mozilla/")
    assert params["browser_platform"] == "Win32"
    assert params["os"] == "windows"


def test_browser_fields_can_be_overridden() -> None:
    """Given browser fields win over the values derived from the UA."""
    params = ClientParams(browser_name="Edge", browser_version="1", browser_platform="Linux", os="linux")
    items = dict(params.http_query_items())
    assert (items["browser_name"], items["browser_version"], items["browser_platform"], items["os"]) == (
        "Edge",
        "1",
        "Linux",
        "linux",
    )


def test_replacing_the_user_agent_rederives_the_browser_fields() -> None:
    """Derived fields follow the UA of a copy made with dataclasses.replace (they are not cached)."""
    windows = dataclasses.replace(DEFAULT_CLIENT_PARAMS, user_agent=WINDOWS_UA)
    assert dict(windows.http_query_items())["browser_platform"] == "Win32"


def test_extra_params_replace_in_place_and_append_new_keys() -> None:
    """An extra param with a known key replaces its value at its position; a new key goes last."""
    items = ClientParams(extra_params={"aid": "1233", "msToken": ""}).http_query_items()
    keys = [k for k, _ in items]
    assert keys[0] == "aid"
    assert dict(items)["aid"] == "1233"
    assert items[-1] == ("msToken", "")


def test_extra_mappings_are_read_only_copies() -> None:
    """Changing the dict passed in later does not change the (frozen, hashable) params."""
    source = {"a": "1"}
    params = ClientParams(extra_params=source)
    source["a"] = "2"
    assert dict(params.http_query_items())["a"] == "1"
    assert hash(params) == hash(ClientParams(extra_params={"a": "1"}))
    with pytest.raises(TypeError):
        params.extra_params["a"] = "3"  # type: ignore[index]  # the point: it is read-only


def test_ws_query_items_are_spec_3_3() -> None:
    """WebSocket params follow SPEC.md §3.3 in order, [C2]'s values where the peers differ."""
    items = DEFAULT_CLIENT_PARAMS.ws_query_items()
    assert items[0] == ("version_code", "180800")
    params = dict(items)
    expected = {
        "aid": "1988",
        "app_language": "en",
        "app_name": "tiktok_web",
        "browser_platform": "MacIntel",
        "browser_language": "en-DE",
        "browser_name": "Mozilla",
        "browser_online": "true",
        "cookie_enabled": "true",
        "tz_name": "Europe/Berlin",
        "device_platform": "web",
        "identity": "audience",
        "live_id": "12",
        "webcast_language": "en",
        "sup_ws_ds_opt": "1",
        "update_version_code": "2.0.0",
        "did_rule": "3",
        "screen_height": "1080",
        "screen_width": "1920",
        "resp_content_type": "protobuf",
        "history_comment_count": "6",
        "client_enter": "1",
        "ws_direct": "0",
        "heartbeat_duration": "0",
        "last_rtt": "150",
        "User-Agent": DEFAULT_USER_AGENT,
    }
    assert {k: params[k] for k in expected} == expected
    assert set(params) == {"version_code", "browser_version", *expected}


def test_ws_params_follow_tl_when_asked() -> None:
    """[TL]'s differing values (ws_direct 1, heartbeat_duration 10000, no UA param) are settable."""
    params = ClientParams(ws_direct=1, heartbeat_duration=10000, last_rtt=123, ws_user_agent_param=False)
    items = dict(params.ws_query_items())
    assert (items["ws_direct"], items["heartbeat_duration"], items["last_rtt"]) == ("1", "10000", "123")
    assert "User-Agent" not in items


def test_extra_ws_params_replace_ours() -> None:
    """extra_ws_params add to or replace the WebSocket params."""
    items = dict(ClientParams(extra_ws_params={"live_id": "13", "new": "x"}).ws_query_items())
    assert (items["live_id"], items["new"]) == ("13", "x")


def test_http_headers_are_spec_3_4() -> None:
    """Default headers: both eras' set plus the current peers' Sec-Fetch-* (SPEC.md §3.4)."""
    assert DEFAULT_CLIENT_PARAMS.http_headers() == (
        ("Connection", "keep-alive"),
        ("Cache-Control", "max-age=0"),
        ("User-Agent", DEFAULT_USER_AGENT),
        ("Accept", "text/html,application/json,application/protobuf"),
        ("Referer", "https://www.tiktok.com/"),
        ("Origin", "https://www.tiktok.com"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Sec-Fetch-Site", "same-site"),
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Dest", "empty"),
        ("Sec-Fetch-Ua-Mobile", "?0"),
    )


def test_extra_headers_replace_case_insensitively() -> None:
    """An extra header replaces the default of the same name, whatever its case, and goes last."""
    headers = ClientParams(extra_headers={"user-agent": "X", "X-Extra": "1"}).http_headers()
    assert [v for k, v in headers if k.lower() == "user-agent"] == ["X"]
    assert headers[-2:] == (("user-agent", "X"), ("X-Extra", "1"))


def test_default_cookie_is_tt_target_idc() -> None:
    """Both current peers start the jar with ``tt-target-idc=useast1a`` (SPEC.md §3.4)."""
    assert DEFAULT_CLIENT_PARAMS.default_cookies() == {"tt-target-idc": "useast1a"}
    assert ClientParams(tt_target_idc="").default_cookies() == {}


def test_with_location_applies_a_preset() -> None:
    """A location preset sets language, lang_country, region (and priority_region) and time zone."""
    params = DEFAULT_CLIENT_PARAMS.with_location(LocationPreset("en", "en-GB", "GB", "Europe/London"))
    items = dict(params.http_query_items())
    assert (items["browser_language"], items["region"], items["priority_region"], items["tz_name"]) == (
        "en-GB",
        "GB",
        "GB",
        "Europe/London",
    )


def test_presets_are_spec_3_1() -> None:
    """The location and screen presets are SPEC.md §3.1's, [C2]'s default first."""
    assert LOCATION_PRESETS[0] == LocationPreset("en", "en-DE", "DE", "Europe/Berlin")
    assert len(LOCATION_PRESETS) == 10
    assert {p.region for p in LOCATION_PRESETS[1:]} == {"GB", "CA", "AU", "NZ", "ZA", "IE", "JM", "BZ", "TT"}
    assert SCREEN_PRESETS[0] == (1920, 1080)
    assert len(SCREEN_PRESETS) == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_agent": "Mozilla/5.0\r\nX-Injected: 1"}, "control characters"),
        ({"user_agent": ""}, "must not be empty"),
        ({"screen_width": 0}, "positive int"),
        ({"screen_height": True}, "positive int"),
        ({"history_len": -1}, ">= 0"),
        ({"device_id": "12ab"}, "decimal digits"),
        ({"extra_params": {"a": 1}}, "str to str"),
        ({"extra_params": ["a"]}, "mapping"),
        ({"extra_headers": {"X": "a\nb"}}, "control characters"),
        ({"extra_ws_params": {"": "a"}}, "non-empty"),
    ],
)
def test_client_params_reject_bad_values(kwargs: dict[str, object], message: str) -> None:
    """Values that would break a header or a param are refused on construction."""
    with pytest.raises(ValueError, match=message):
        ClientParams(**kwargs)  # type: ignore[arg-type]  # some values are deliberately mistyped


def test_make_device_id_is_19_digits_from_the_callers_entropy() -> None:
    """The device id is deterministic in its input (the core has no randomness) and 19 digits long."""
    assert make_device_id(b"\x00" * 8) == "1000000000000000000"
    ids = {make_device_id(bytes([i]) * 8) for i in range(256)}
    assert all(len(i) == 19 and i.isdecimal() and i[0] != "0" for i in ids)
    assert len(ids) == 256
    with pytest.raises(ValueError, match="8 random bytes"):
        make_device_id(b"short")


def test_empty_extra_mappings_are_one_shared_read_only_mapping() -> None:
    """Parameters without extra headers, query or socket query share one empty read-only mapping
    (given empty or omitted); given ones are copies of their own."""
    given = ClientParams(extra_headers={}, extra_params={})
    omitted = ClientParams()
    assert given.extra_headers is omitted.extra_headers is omitted.extra_ws_params is given.extra_params
    assert dict(given.extra_headers) == {}
    assert given == omitted
    with pytest.raises(TypeError):
        given.extra_headers["X"] = "1"  # type: ignore[index]  # read-only, under test
    source = {"X": "1"}
    own = ClientParams(extra_headers=source)
    source["X"] = "2"
    assert dict(own.extra_headers) == {"X": "1"}
    assert own.extra_headers is not omitted.extra_headers
