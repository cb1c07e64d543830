"""The Flex Web Service client against the fake service on 127.0.0.1: every branch of the protocol.

Backoff is made short through FlexSettings (the same knobs BEANFLEX_FLEX_BACKOFF etc. set), never by patching.
Sleeps are recorded through the `sleep` argument, so the schedule itself is checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from beanflex.importers.flex import client
from beanflex.importers.flex.client import FlexSettings, fetch_statement
from beanflex.importers.flex.errors import FlexServiceError
from fake_flex_service import (
    QUERY_ID, REFERENCE, TOKEN, Reply, dropped, empty, envelope, fail, html_404, serve_flex, slow, success,
    truncated, warn,
)

STATEMENT = (Path(__file__).parent / "fixtures" / "foundation" / "small.xml").read_bytes()


def settings_for(flex, **overrides) -> FlexSettings:
    values = dict(token=TOKEN, query_id=QUERY_ID, url=flex.url, backoff_initial=0.01, backoff_cap=0.04,
                  max_wait=1.0, timeout=10.0)
    values.update(overrides)
    return FlexSettings(**values)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_success_follows_the_returned_url_and_returns_exact_bytes():
    with serve_flex(STATEMENT) as flex:
        sleeps = Sleeps()
        body = fetch_statement(settings_for(flex), sleep=sleeps)
    assert body == STATEMENT
    assert sleeps == []
    send, get = flex.requests
    assert send.path == flex.SEND_PATH and send.params == {"t": TOKEN, "q": QUERY_ID, "v": "3"}
    assert get.path == flex.GET_PATH != flex.SEND_PATH
    assert get.params == {"q": REFERENCE, "t": TOKEN, "v": "3"}
    assert send.headers["User-Agent"].startswith("beanflex/")


def test_get_statement_url_comes_from_the_reply_not_a_constant():
    with serve_flex(STATEMENT) as flex:
        flex.send_replies = [success("777", flex.base + "/elsewhere/GetStatement")]
        flex.reference = "777"
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(settings_for(flex), sleep=Sleeps())
    # The fake has no /elsewhere path, so it answers its HTML 404: proof the client went where it was told.
    assert flex.requests[1].path == "/elsewhere/GetStatement"
    assert "HTTP 404" in str(err.value) and "text/html" in str(err.value)


@pytest.mark.parametrize("code", sorted(client.RETRY_CODES))
def test_try_again_codes_are_retried_then_the_statement_comes(code):
    with serve_flex(STATEMENT, get_replies=[warn(int(code))] * 3) as flex:
        sleeps = Sleeps()
        progress: list[str] = []
        body = fetch_statement(settings_for(flex), sleep=sleeps, progress=progress.append)
    assert body == STATEMENT
    # Backoff: min(cap, initial × 2**n) = 0.01, 0.02, 0.04
    assert sleeps == [0.01, 0.02, 0.04]
    assert len(progress) == 3 and f"IBKR {code}" in progress[0] and "retrying in 0.01 s" in progress[0]


def test_send_request_retries_too_and_backoff_is_capped():
    with serve_flex(STATEMENT, send_replies=[warn(1018, "Too many requests")] * 5) as flex:
        sleeps = Sleeps()
        assert fetch_statement(settings_for(flex), sleep=sleeps) == STATEMENT
    assert sleeps == [0.01, 0.02, 0.04, 0.04, 0.04]  # capped at backoff_cap 0.04
    assert [r.path for r in flex.requests].count(flex.SEND_PATH) == 6


def test_total_wait_is_bounded():
    with serve_flex(STATEMENT, get_replies=[warn(1019)] * 100) as flex:
        sleeps = Sleeps()
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(settings_for(flex, max_wait=0.1), sleep=sleeps)
    # 0.01 + 0.02 + 0.04 = 0.07; the next 0.04 would make 0.11 > 0.1, so it stops after 3 waits.
    assert sleeps == [0.01, 0.02, 0.04]
    assert err.value.code == "1019"
    assert "GetStatement: gave up after waiting 0.07 s (3 retries); last: IBKR 1019" in str(err.value)


@pytest.mark.parametrize("code", sorted(client.FAIL_HINTS))
def test_fail_codes_fail_at_once_with_what_to_do(code):
    with serve_flex(STATEMENT, send_replies=[fail(int(code), "IBKR says no.")]) as flex:
        sleeps = Sleeps()
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(settings_for(flex), sleep=sleeps)
    assert sleeps == [] and len(flex.requests) == 1
    assert err.value.code == code
    assert f"IBKR Fail {code}: IBKR says no." in str(err.value)
    assert client.FAIL_HINTS[code] in str(err.value)


def test_unknown_code_fails_at_once():
    with serve_flex(STATEMENT, get_replies=[fail(1099, "Something new.")]) as flex:
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(settings_for(flex), sleep=Sleeps())
    assert err.value.code == "1099" and "error codes" in str(err.value)


def test_fail_on_get_statement_step_is_named():
    with serve_flex(STATEMENT, get_replies=[fail(1003, "Statement is not available.")]) as flex:
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(settings_for(flex), sleep=Sleeps())
    assert str(err.value).startswith("GetStatement refused: IBKR Fail 1003")


@pytest.mark.parametrize("reply, expected", [
    (html_404(), "an <html> document, neither a Flex status reply nor a statement (HTTP 404, text/html"),
    (empty(), "an empty body (HTTP 200, text/xml"),
    (truncated(STATEMENT), "an unusable statement (not well-formed XML"),
    (Reply(b"Service Unavailable", status=503, content_type="text/plain"),
     "something that is not XML, neither a Flex status reply nor a statement (HTTP 503, text/plain"),
    (Reply(b"<Other/>"), "an <Other> document"),
    (Reply(envelope("Success", ReferenceCode="1")), "a Success reply without a ReferenceCode and an http(s) Url"),
    (Reply(b"<FlexStatementResponse><Status>Warn"), "a broken status reply"),
])
def test_garbage_bodies_fail_at_once_with_status_and_content_type(reply, expected):
    for where in ("send", "get"):
        kwargs = {"send_replies": [reply]} if where == "send" else {"get_replies": [reply]}
        with serve_flex(STATEMENT, **kwargs) as flex:
            sleeps = Sleeps()
            with pytest.raises(FlexServiceError) as err:
                fetch_statement(settings_for(flex), sleep=sleeps)
        if where == "send" and "Success reply" not in expected:
            assert len(flex.requests) == 1
        assert sleeps == [], where
        assert expected in str(err.value), (where, str(err.value))
        assert TOKEN not in str(err.value)


def test_timeouts_are_retried():
    with serve_flex(STATEMENT, get_replies=[slow(1.5)]) as flex:
        sleeps = Sleeps()
        progress: list[str] = []
        body = fetch_statement(settings_for(flex, timeout=0.5), sleep=sleeps, progress=progress.append)
    assert body == STATEMENT and sleeps == [0.01]
    assert "ReadTimeout" in progress[0] and TOKEN not in progress[0]


def test_dropped_connections_are_retried():
    with serve_flex(STATEMENT, send_replies=[dropped(), dropped()]) as flex:
        sleeps = Sleeps()
        assert fetch_statement(settings_for(flex), sleep=sleeps) == STATEMENT
    assert sleeps == [0.01, 0.02]


def test_connection_refused_gives_up_within_the_bound():
    with serve_flex(STATEMENT) as flex:
        url = flex.url
    sleeps = Sleeps()  # the server is gone now: every connect is refused
    with pytest.raises(FlexServiceError) as err:
        fetch_statement(FlexSettings(token=TOKEN, query_id=QUERY_ID, url=url, backoff_initial=0.01,
                                     backoff_cap=0.02, max_wait=0.06), sleep=sleeps)
    # 0.01 + 0.02 + 0.02 = 0.05 ≤ max_wait 0.06; a fourth wait (0.07) would exceed it, so it gives up.
    assert sleeps == [0.01, 0.02, 0.02]
    assert "ConnectError" in str(err.value) and TOKEN not in str(err.value)


def test_bad_url_scheme_fails_at_once_without_the_token():
    settings = FlexSettings(token=TOKEN, query_id=QUERY_ID, url="ftp://127.0.0.1/SendRequest")
    with pytest.raises(FlexServiceError) as err:
        fetch_statement(settings, sleep=Sleeps())
    assert "UnsupportedProtocol" in str(err.value) and TOKEN not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_settings_from_env(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    s = FlexSettings.from_env({"IBKR_FLEX_TOKEN_FILE": str(token_file), "IBKR_FLEX_QUERY_ID": " 42 ",
                               "BEANFLEX_FLEX_BACKOFF": "0.5,2", "BEANFLEX_FLEX_MAX_WAIT": "9",
                               "BEANFLEX_FLEX_TIMEOUT": "3"})
    assert (s.token, s.query_id, s.url) == (TOKEN, "42", client.DEFAULT_URL)
    assert (s.backoff_initial, s.backoff_cap, s.max_wait, s.timeout) == (0.5, 2.0, 9.0, 3.0)
    assert [s.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 2.0]
    assert TOKEN not in repr(s)
    default = FlexSettings.from_env({"IBKR_FLEX_TOKEN": TOKEN, "IBKR_FLEX_QUERY_ID": "1"})
    assert [default.delay(n) for n in range(7)] == [5, 10, 20, 40, 60, 60, 60]
    assert default.url.endswith("/AccountManagement/FlexWebService/SendRequest")


@pytest.mark.parametrize("env, message", [
    ({"IBKR_FLEX_QUERY_ID": "1"}, "set IBKR_FLEX_TOKEN"),
    ({"IBKR_FLEX_TOKEN": TOKEN}, "set IBKR_FLEX_QUERY_ID"),
    ({"IBKR_FLEX_TOKEN_FILE": "/nonexistent/token", "IBKR_FLEX_QUERY_ID": "1"}, "cannot read the token file"),
    ({"IBKR_FLEX_TOKEN": TOKEN, "IBKR_FLEX_QUERY_ID": "1", "BEANFLEX_FLEX_MAX_WAIT": "soon"}, "not a number"),
])
def test_settings_errors(env, message):
    with pytest.raises(FlexServiceError) as err:
        FlexSettings.from_env(env)
    assert message in str(err.value)


def test_tty_progress_only_on_a_terminal(tmp_path):
    with open(tmp_path / "log", "w") as not_a_tty:
        assert client.tty_progress(not_a_tty) is None


def test_redact():
    assert client.redact(f"GET /x?t={TOKEN}&q=1", TOKEN) == "GET /x?t=***&q=1"


def test_progress_shows_on_a_terminal(tmp_path):
    import os

    leader, follower = os.openpty()
    with open(follower, "w", closefd=True) as terminal:
        show = client.tty_progress(terminal)
        assert show is not None
        with serve_flex(STATEMENT, get_replies=[warn(1019)]) as flex:
            fetch_statement(settings_for(flex), sleep=Sleeps(), progress=show)
    seen = os.read(leader, 4096).decode()
    os.close(leader)
    assert "GetStatement: IBKR 1019: Statement generation in progress" in seen and TOKEN not in seen


def test_get_statement_answering_another_reference_is_an_error():
    with serve_flex(STATEMENT) as flex:
        flex.get_replies = [success("999", flex.base + "/x")]
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(settings_for(flex), sleep=Sleeps())
    assert "another reference code (999)" in str(err.value)


def test_send_request_answering_with_the_statement_at_once_is_accepted():
    with serve_flex(STATEMENT, send_replies=[Reply(STATEMENT)]) as flex:
        assert fetch_statement(settings_for(flex), sleep=Sleeps()) == STATEMENT
    assert len(flex.requests) == 1


@pytest.mark.parametrize("text", ["nan", "inf", "-1", "soon"])
def test_a_wait_setting_that_is_not_a_finite_number_of_seconds_is_refused(text):
    """float("nan") parses, and `waited + delay > nan` is never true: the retries would never stop."""
    env = {"IBKR_FLEX_TOKEN": "t", "IBKR_FLEX_QUERY_ID": "1", "BEANFLEX_FLEX_MAX_WAIT": text}
    with pytest.raises(FlexServiceError, match="BEANFLEX_FLEX_MAX_WAIT"):
        FlexSettings.from_env(env)
