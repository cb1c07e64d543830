"""The Flex Web Service client: token + query id -> the statement's exact bytes (DESIGN §5).

The protocol has two steps. `SendRequest?t=TOKEN&q=QUERY&v=3` answers with a `<FlexStatementResponse>` envelope
holding `Status` Success, a `ReferenceCode` and the `Url` of the second step; `GetStatement` at that Url with
`q=REFERENCE&t=TOKEN&v=3` answers with the statement (`<FlexQueryResponse>`, or CSV when the Flex Query is set to
deliver CSV: the query decides the format, and both are archived as served) or another envelope. Envelopes with
`Status` Warn/Fail carry `ErrorCode` and `ErrorMessage`. IBKR's "try again shortly" codes are retried with capped
exponential backoff (defaults 5, 10, 20, 40, 60, 60 … s) under one bounded total wait (600 s); every other code
fails at once with what to do. A body that is neither an envelope nor a statement fails at once, naming the HTTP
status and content type: retrying an HTML error page would never end.

The token travels in the URL, so it is redacted from every message we make, and httpx's own exceptions (whose text
holds the URL) are never chained or shown. The CLI also keeps httpx's INFO request log off.
The token goes only to the configured service's own domain (destination.py): the reply's Url and every redirect are
checked first, and redirects are followed by hand, never to another domain.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit

import httpx
from lxml import etree

from . import destination
from .adapter import parse as parse_statement, sniff_root
from .csv_reader import looks_like_csv
from .errors import FlexParseError, FlexServiceError

DEFAULT_URL = "https://ndcdyn.interactivebrokers.com/AccountManagement/FlexWebService/SendRequest"
API_VERSION = "3"
#: Redirects followed per request, each checked like the reply's Url (destination.py).
MAX_REDIRECTS = 5

#: "Try again shortly": generation not finished, data not ready, server busy, too many requests (1018).
RETRY_CODES = {
    "1001": "statement could not be generated at this time",
    "1004": "statement is incomplete at this time",
    "1005": "settlement data is not ready at this time",
    "1006": "FIFO P/L data is not ready at this time",
    "1007": "MTM P/L data is not ready at this time",
    "1008": "MTM and FIFO P/L data is not ready at this time",
    "1009": "the server is under heavy load",
    "1018": "too many requests from this token (IBKR allows about 1 per second and 10 per minute)",
    "1019": "statement generation in progress",
    "1021": "statement could not be retrieved at this time",
}

#: Codes that no amount of waiting fixes, with what the user should do.
FAIL_HINTS = {
    "1003": "the statement is not available: check the Flex Query's period (Client Portal → Performance & "
            "Reports → Flex Queries) and that the accounts had activity IBKR still keeps",
    "1010": "legacy Flex Queries are no longer supported: create an Activity Flex Query and use its Query ID",
    "1011": "the service account is inactive: check the account's status in Client Portal",
    "1012": "the token has expired: generate a new one (Client Portal → Settings → Account Settings → "
            "Reporting → Flex Web Service) and update IBKR_FLEX_TOKEN / IBKR_FLEX_TOKEN_FILE",
    "1013": "IP restriction: the token only works from the IP addresses set in the Flex Web Service "
            "configuration; add this machine's public IP there",
    "1014": "the query is invalid: check IBKR_FLEX_QUERY_ID is the Query ID of an existing Flex Query",
    "1015": "the token is invalid: check IBKR_FLEX_TOKEN / IBKR_FLEX_TOKEN_FILE holds the whole current token",
    "1016": "the account is invalid: the Flex Query names an account this token cannot read",
    "1017": "the reference code is invalid or expired: run the fetch again",
    "1020": "invalid request or unable to validate it: check IBKR_FLEX_URL is the SendRequest URL and the "
            "query id is right",
}

_RETRY_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_ENVELOPE_PARSER = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _user_agent() -> str:
    try:
        version = metadata.version("beanflex")
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
        version = "0"
    return f"beanflex/{version} python-httpx/{httpx.__version__}"


@dataclass(frozen=True)
class FlexSettings:
    """Where and how to fetch. `token` is never shown: repr hides it and every message redacts it.

    The backoff before retry n (0-based) is min(backoff_cap, backoff_initial × 2**n): 5, 10, 20, 40, 60, 60 … s
    by default; the fetch gives up when the next wait would pass `max_wait`: with the defaults after 12 retries
    and 555 s of waiting (5 + 10 + 20 + 40 + 8 × 60; a 13th wait would make 615 > 600).
    """

    token: str = field(repr=False)
    query_id: str
    url: str = DEFAULT_URL
    user_agent: str = field(default_factory=_user_agent)
    backoff_initial: float = 5.0
    backoff_cap: float = 60.0
    max_wait: float = 600.0
    timeout: float = 30.0  # seconds per HTTP request (connect, read, write, pool)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry `attempt` (0-based), e.g. 5, 10, 20, 40, 60, 60."""
        return min(self.backoff_cap, self.backoff_initial * (2 ** min(attempt, 32)))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "FlexSettings":
        """Read IBKR_FLEX_TOKEN (or IBKR_FLEX_TOKEN_FILE), IBKR_FLEX_QUERY_ID, IBKR_FLEX_URL and the tuning knobs.

        Tuning: BEANFLEX_FLEX_BACKOFF="initial[,cap]" seconds (e.g. "5,60"), BEANFLEX_FLEX_MAX_WAIT seconds,
        BEANFLEX_FLEX_TIMEOUT seconds per request. Tests use them to make the waits short.
        """
        env = dict(os.environ if env is None else env)
        token = (env.get("IBKR_FLEX_TOKEN") or "").strip()
        if not token and env.get("IBKR_FLEX_TOKEN_FILE"):
            token_file = Path(env["IBKR_FLEX_TOKEN_FILE"]).expanduser()
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise FlexServiceError(f"cannot read the token file: {exc.strerror}", file=str(token_file),
                                       hint="IBKR_FLEX_TOKEN_FILE must name a readable file holding the token"
                                       ) from None
        if not token:
            raise FlexServiceError("no Flex Web Service token configured",
                                   hint="set IBKR_FLEX_TOKEN, or IBKR_FLEX_TOKEN_FILE to a file holding it")
        query_id = (env.get("IBKR_FLEX_QUERY_ID") or "").strip()
        if not query_id:
            raise FlexServiceError("no Flex Query id configured",
                                   hint="set IBKR_FLEX_QUERY_ID to the Query ID shown next to your Flex Query")
        kwargs: dict = {}
        backoff = env.get("BEANFLEX_FLEX_BACKOFF")
        if backoff:
            parts = [p.strip() for p in backoff.split(",") if p.strip()]
            kwargs["backoff_initial"] = _seconds("BEANFLEX_FLEX_BACKOFF", parts[0])
            if len(parts) > 1:
                kwargs["backoff_cap"] = _seconds("BEANFLEX_FLEX_BACKOFF", parts[1])
        if env.get("BEANFLEX_FLEX_MAX_WAIT"):
            kwargs["max_wait"] = _seconds("BEANFLEX_FLEX_MAX_WAIT", env["BEANFLEX_FLEX_MAX_WAIT"])
        if env.get("BEANFLEX_FLEX_TIMEOUT"):
            kwargs["timeout"] = _seconds("BEANFLEX_FLEX_TIMEOUT", env["BEANFLEX_FLEX_TIMEOUT"])
        return cls(token=token, query_id=query_id, url=(env.get("IBKR_FLEX_URL") or DEFAULT_URL).strip(), **kwargs)


def _seconds(name: str, text: str) -> float:
    try:
        value = float(text)  # seconds of waiting, not money
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:  # "nan" or "inf" would make the retry loop endless
        raise FlexServiceError(f"{name}={text!r} is not a number of seconds", hint=f"e.g. {name}=5")
    return value


def redact(text: str, token: str | None) -> str:
    """`text` with the token replaced by `***`, e.g. "…/SendRequest?t=***&q=123&v=3"."""
    if token:
        text = text.replace(token, "***")
    return text


@dataclass
class _Reply:
    kind: str  # "success" (ReferenceCode+Url) | "retry" | "statement"
    code: str | None = None
    message: str = ""
    reference: str | None = None
    url: str | None = None
    body: bytes = b""


class _Waits:
    """The shared retry budget of one fetch: sleeps with backoff, says so on a terminal, gives up in time."""

    def __init__(self, settings: FlexSettings, sleep: Callable[[float], None],
                 progress: Callable[[str], None] | None):
        self.settings, self.sleep, self.progress = settings, sleep, progress
        self.waited = 0.0
        self.attempt = 0  # per step; reset by step()

    def step(self) -> None:
        self.attempt = 0

    def wait(self, step: str, reason: str, code: str | None = None) -> None:
        delay = self.settings.delay(self.attempt)
        if self.waited + delay > self.settings.max_wait:
            hint = ("IBKR is slow or busy; run the fetch again later" if code else
                    f"could not reach {_where(self.settings.url)}: check the network and IBKR_FLEX_URL, or try later")
            raise FlexServiceError(
                f"{step}: gave up after waiting {self.waited:g} s ({self.attempt} retries); last: {reason}",
                code=code, hint=f"{hint} (the wait is bounded by BEANFLEX_FLEX_MAX_WAIT)")
        if self.progress is not None:
            self.progress(f"{step}: {reason}; retrying in {delay:g} s "
                          f"(waited {self.waited:g} of at most {self.settings.max_wait:g} s)")
        self.sleep(delay)
        self.waited += delay
        self.attempt += 1


def tty_progress(stream=None) -> Callable[[str], None] | None:
    """A progress printer for a terminal, or None under cron (stderr not a TTY), so cron mail stays quiet."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None
    return lambda line: print(line, file=stream, flush=True)


def fetch_statement(settings: FlexSettings, *, sleep: Callable[[float], None] = time.sleep,
                    progress: Callable[[str], None] | None = None) -> bytes:
    """Run SendRequest then GetStatement and return the statement's bytes exactly as served.

    Raises FlexServiceError (with `.code` when IBKR gave one) for refusals, unreadable bodies, and when the
    bounded wait runs out. The token appears in no message.
    """
    waits = _Waits(settings, sleep, progress)
    headers = {"User-Agent": settings.user_agent, "Accept": "application/xml, text/xml, text/csv"}
    with httpx.Client(timeout=settings.timeout, headers=headers, follow_redirects=False) as client:
        send = _exchange(client, settings, waits, "SendRequest", settings.url,
                         {"t": settings.token, "q": settings.query_id, "v": API_VERSION})
        if send.kind == "statement":
            return send.body  # a service that answers at once with the statement: keep it as is
        waits.step()
        destination.check(settings.url, send.url, "GetStatement", _where(send.url))
        got = _exchange(client, settings, waits, "GetStatement", send.url,
                        {"q": send.reference, "t": settings.token, "v": API_VERSION})
        if got.kind != "statement":
            raise FlexServiceError(f"GetStatement answered with another reference code ({got.reference}) instead "
                                   "of the statement", hint="run the fetch again; report this if it persists")
        return got.body


def _exchange(client: httpx.Client, settings: FlexSettings, waits: _Waits, step: str, url: str,
              params: dict[str, str]) -> _Reply:
    """One step, with retries on transport trouble and on IBKR's "try again" codes."""
    while True:
        try:
            response = _get(client, settings, step, url, params)
        except _RETRY_TRANSPORT as exc:
            waits.wait(step, f"{type(exc).__name__}: {redact(str(exc), settings.token) or 'no detail'}")
            continue
        except httpx.HTTPError as exc:
            raise FlexServiceError(f"{step} to {_where(url)} failed: {type(exc).__name__}: "
                                   f"{redact(str(exc), settings.token)}",
                                   hint="check IBKR_FLEX_URL") from None
        reply = _read_reply(response, step, settings)
        if reply.kind != "retry":
            return reply
        waits.wait(step, f"IBKR {reply.code}: {reply.message}", code=reply.code)


def _get(client: httpx.Client, settings: FlexSettings, step: str, url: str, params: dict[str, str]) -> httpx.Response:
    """GET, following a redirect only to where the token may go (destination.py), at most MAX_REDIRECTS times.

    The redirect's Location is requested as given (its own query, not ours), like a browser would.
    """
    response = client.get(url, params=params)
    for _ in range(MAX_REDIRECTS):
        location = response.headers.get("location")
        if not response.is_redirect or not location:
            return response
        target = urljoin(str(response.request.url), location)
        destination.check(settings.url, target, f"{step} redirect", _where(redact(target, settings.token)))
        response = client.get(target)
    if response.is_redirect:
        raise FlexServiceError(f"{step} at {_where(url)}: more than {MAX_REDIRECTS} redirects",
                               hint="check IBKR_FLEX_URL; IBKR may be having trouble, run the fetch again later")
    return response


def _where(url: str) -> str:
    """scheme://host/path of a URL, without its query (which holds the token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _describe(response: httpx.Response, step: str, what: str) -> str:
    content_type = response.headers.get("content-type", "no content type")
    return (f"{step} at {_where(str(response.request.url))} returned {what} "
            f"(HTTP {response.status_code}, {content_type}, {len(response.content)} bytes)")


def _read_reply(response: httpx.Response, step: str, settings: FlexSettings) -> _Reply:
    """Classify one HTTP reply: envelope (success / retry / fail), statement, or garbage (fail at once)."""
    body = response.content
    hint = "IBKR may be down or IBKR_FLEX_URL may be wrong; nothing was archived"
    if not body.strip():
        raise FlexServiceError(_describe(response, step, "an empty body"), hint=hint)
    root = sniff_root(body[:4096])
    if root == "FlexQueryResponse" or (not body.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<")
                                       and looks_like_csv(body[:4096])):  # a query delivered as CSV
        try:
            parse_statement(body, source=f"{step} reply")
        except FlexParseError as exc:
            raise FlexServiceError(_describe(response, step, f"an unusable statement ({exc.message})"),
                                   hint="the download was probably cut off; run the fetch again") from None
        return _Reply("statement", body=body)
    if root != "FlexStatementResponse":
        shown = f"an <{root}> document" if root else "something that is not XML"
        raise FlexServiceError(_describe(response, step, f"{shown}, neither a Flex status reply nor a statement"),
                               hint=hint)
    try:
        envelope = etree.fromstring(body, etree.XMLParser(**_ENVELOPE_PARSER))
    except etree.XMLSyntaxError as exc:
        raise FlexServiceError(_describe(response, step, f"a broken status reply ({exc.msg})"), hint=hint) from None
    status = (envelope.findtext("Status") or "").strip()
    code = (envelope.findtext("ErrorCode") or "").strip() or None
    message = redact((envelope.findtext("ErrorMessage") or "").strip(), settings.token)
    if status == "Success":
        reference = (envelope.findtext("ReferenceCode") or "").strip()
        next_url = (envelope.findtext("Url") or "").strip()
        if not reference or urlsplit(next_url).scheme not in ("http", "https"):
            raise FlexServiceError(_describe(response, step, "a Success reply without a ReferenceCode and an "
                                             "http(s) Url"), hint=hint)
        return _Reply("success", reference=reference, url=next_url)
    if code in RETRY_CODES:
        return _Reply("retry", code=code, message=message or RETRY_CODES[code])
    action = FAIL_HINTS.get(code or "", "see IBKR's list of Flex Web Service error codes")
    raise FlexServiceError(f"{step} refused: IBKR {status or 'Fail'} {code or '(no code)'}: "
                           f"{message or 'no message'}", code=code, hint=action)
