"""The Flex token goes only to the configured service's domain: never to another host a reply or redirect names.

Two fake services run on loopback: the configured one on 127.0.0.1 and a "thief" on 127.0.0.2. Each test checks
the thief saw no request at all, and that the refusal names where it would have gone, without the token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from beanflex.importers.flex import destination
from beanflex.importers.flex.client import FlexSettings, fetch_statement
from beanflex.importers.flex.errors import FlexServiceError
from fake_flex_service import QUERY_ID, TOKEN, redirect, serve_flex, success

STATEMENT = (Path(__file__).parent / "fixtures" / "foundation" / "small.xml").read_bytes()
IBKR = "https://ndcdyn.interactivebrokers.com/AccountManagement/FlexWebService/SendRequest"


def _settings(url: str) -> FlexSettings:
    return FlexSettings(token=TOKEN, query_id=QUERY_ID, url=url, backoff_initial=0.01, backoff_cap=0.02,
                        max_wait=0.5, timeout=5.0)


def _no_sleep(_seconds: float) -> None:
    pass


@pytest.mark.parametrize("target, reason", [
    ("https://gdcdyn.interactivebrokers.com/AccountManagement/FlexWebService/GetStatement", None),
    ("https://www.interactivebrokers.com/x", None),
    ("http://gdcdyn.interactivebrokers.com/x", "plain http"),
    ("https://interactivebrokers.com.evil.io/x", "evil.io is not within interactivebrokers.com"),
    ("https://evilinteractivebrokers.com/x", "not within interactivebrokers.com"),
    ("https://203.0.113.7/x", "203.0.113.7 is not within interactivebrokers.com"),
    ("ftp://gdcdyn.interactivebrokers.com/x", "scheme ftp"),
])
def test_the_domain_decides_not_the_host(target, reason):
    found = destination.refusal(IBKR, target)
    assert (found is None) if reason is None else (reason in found)


@pytest.mark.parametrize("configured, target, allowed", [
    ("http://127.0.0.1:8000/s", "http://127.0.0.1:9000/g", True),  # an IP: the same address, any port
    ("http://127.0.0.1:8000/s", "http://127.0.0.2:8000/g", False),
    ("http://localhost:8000/s", "http://localhost:9000/g", True),
    ("http://localhost:8000/s", "http://otherhost:9000/g", False),
    ("https://flex.a.co.uk/s", "https://get.a.co.uk/g", True),
    ("https://flex.a.co.uk/s", "https://b.co.uk/g", False),  # co.uk is a public suffix, not a domain
])
def test_ip_addresses_and_public_suffixes(configured, target, allowed):
    assert (destination.refusal(configured, target) is None) is allowed


def test_a_reply_url_on_another_host_gets_no_token():
    with serve_flex(STATEMENT, host="127.0.0.2") as thief, serve_flex(STATEMENT) as flex:
        flex.send_replies = [success("1234567890", thief.base + thief.GET_PATH)]
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(_settings(flex.url), sleep=_no_sleep)
    assert thief.requests == []
    message = str(err.value)
    assert "refusing to send the Flex token to http://127.0.0.2:" in message
    assert "127.0.0.2 is not within 127.0.0.1" in message
    assert TOKEN not in message


def test_a_redirect_elsewhere_is_not_followed():
    with serve_flex(STATEMENT, host="127.0.0.2") as thief, serve_flex(STATEMENT) as flex:
        flex.get_replies = [redirect(f"{thief.base}{thief.GET_PATH}?t={TOKEN}")]
        with pytest.raises(FlexServiceError) as err:
            fetch_statement(_settings(flex.url), sleep=_no_sleep)
    assert thief.requests == []
    assert "GetStatement redirect: refusing" in str(err.value) and TOKEN not in str(err.value)


def test_a_redirect_on_send_request_elsewhere_is_not_followed():
    with serve_flex(STATEMENT, host="127.0.0.2") as thief, serve_flex(STATEMENT) as flex:
        flex.send_replies = [redirect(f"{thief.base}{thief.SEND_PATH}")]
        with pytest.raises(FlexServiceError):
            fetch_statement(_settings(flex.url), sleep=_no_sleep)
    assert thief.requests == []


def test_a_redirect_within_the_service_is_followed():
    with serve_flex(STATEMENT) as flex:
        query = f"q=1234567890&t={TOKEN}&v=3"
        flex.get_replies = [redirect(f"{flex.GET_PATH}?{query}", status=301)]
        assert fetch_statement(_settings(flex.url), sleep=_no_sleep) == STATEMENT
    assert [r.path for r in flex.requests] == [flex.SEND_PATH, flex.GET_PATH, flex.GET_PATH]


def test_endless_redirects_stop():
    with serve_flex(STATEMENT) as flex:
        flex.get_replies = [redirect(flex.GET_PATH)] * 10
        with pytest.raises(FlexServiceError, match="more than 5 redirects"):
            fetch_statement(_settings(flex.url), sleep=_no_sleep)
