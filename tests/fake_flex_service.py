"""A fake IBKR Flex Web Service over real HTTP on 127.0.0.1, for tests of `fetch` (and `sync` later).

It speaks the envelope protocol: SendRequest (at IBKR's path) answers `Success` + ReferenceCode + a Url on a
*different* path, GetStatement answers with the statement. Both steps can be scripted with a list of replies
(Warn 1019 three times, a Fail code, an HTML 404, an empty or truncated body, a slow reply, a dropped
connection); when a script runs out the service behaves normally. Every request is recorded.

    with serve_flex(statement_bytes, get_replies=[warn(1019)] * 3) as flex:
        env = flex.env()          # IBKR_FLEX_TOKEN, IBKR_FLEX_QUERY_ID, IBKR_FLEX_URL, short backoff
        ...
        assert flex.requests[0].path == flex.SEND_PATH
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

TOKEN = "tok-BEANFLEX-SECRET-5ab1e7c0ffee"
QUERY_ID = "987654"
REFERENCE = "1234567890"


@dataclass
class Reply:
    """One scripted HTTP reply. `drop` closes the connection without answering; `delay` sleeps first."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/xml;charset=utf-8"
    delay: float = 0.0
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def envelope(status: str, **fields: str) -> bytes:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<FlexStatementResponse timestamp="25 November, 2026 '
            f'11:00 PM EST">\n<Status>{status}</Status>{inner}\n</FlexStatementResponse>\n').encode()


def success(reference: str, url: str) -> Reply:
    return Reply(envelope("Success", ReferenceCode=reference, Url=url))


def warn(code: int, message: str = "Statement generation in progress. Please try again shortly.") -> Reply:
    return Reply(envelope("Warn", ErrorCode=str(code), ErrorMessage=message))


def fail(code: int, message: str = "Request failed.") -> Reply:
    return Reply(envelope("Fail", ErrorCode=str(code), ErrorMessage=message))


def html_404() -> Reply:
    return Reply(b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
                 b"</body></html>", status=404, content_type="text/html; charset=iso-8859-1")


def empty() -> Reply:
    return Reply(b"")


def truncated(statement: bytes, keep: float = 0.5) -> Reply:
    return Reply(statement[: int(len(statement) * keep)])


def slow(seconds: float) -> Reply:
    """Answers only after `seconds`: longer than the client's timeout, it is a timeout."""
    return Reply(delay=seconds, body=envelope("Warn", ErrorCode="1019", ErrorMessage="late"))


def dropped() -> Reply:
    return Reply(drop=True)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(b"", status=status, content_type="text/plain", headers={"Location": location})


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeFlexService:
    """The service's script and record; `url` is what IBKR_FLEX_URL should be."""

    statement: bytes
    send_replies: list[Reply] = field(default_factory=list)
    get_replies: list[Reply] = field(default_factory=list)
    token: str = TOKEN
    query_id: str = QUERY_ID
    reference: str = REFERENCE
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    host: str = "127.0.0.1"

    SEND_PATH = "/AccountManagement/FlexWebService/SendRequest"
    GET_PATH = "/AccountManagement/FlexWebService/GetStatement"

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base + self.SEND_PATH

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for `beanflex fetch` against this service, with backoff short enough for tests."""
        values = {"IBKR_FLEX_TOKEN": self.token, "IBKR_FLEX_QUERY_ID": self.query_id, "IBKR_FLEX_URL": self.url,
                  "BEANFLEX_FLEX_BACKOFF": "0.01,0.02", "BEANFLEX_FLEX_MAX_WAIT": "2", "BEANFLEX_FLEX_TIMEOUT": "2"}
        values.update(extra)
        return values

    def answer(self, path: str, params: dict[str, str]) -> Reply:
        if path == self.SEND_PATH:
            if self.send_replies:
                return self.send_replies.pop(0)
            if params.get("t") != self.token:
                return fail(1015, "Token is invalid.")
            if params.get("q") != self.query_id:
                return fail(1014, "Query is invalid.")
            if params.get("v") != "3":
                return fail(1020, "Invalid request or unable to validate request.")
            return success(self.reference, self.base + self.GET_PATH)
        if path == self.GET_PATH:
            if self.get_replies:
                return self.get_replies.pop(0)
            if params.get("t") != self.token:
                return fail(1015, "Token is invalid.")
            if params.get("q") != self.reference:
                return fail(1017, "Reference code is invalid.")
            return Reply(self.statement)
        return html_404()


def _handler(service: FakeFlexService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            service.requests.append(Request(parts.path, params, dict(self.headers)))
            reply = service.answer(parts.path, params)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left (the slow() reply): that is the point

        def log_message(self, format: str, *args) -> None:  # keep test output (and the token) quiet
            pass

    return Handler


@contextlib.contextmanager
def serve_flex(statement: bytes, *, send_replies: list[Reply] | None = None,
               get_replies: list[Reply] | None = None, **kwargs) -> Iterator[FakeFlexService]:
    """Run the fake service on a free port of 127.0.0.1 (or `host=`, e.g. 127.0.0.2) for the block's duration."""
    service = FakeFlexService(statement, list(send_replies or []), list(get_replies or []), **kwargs)
    server = ThreadingHTTPServer((service.host, 0), _handler(service))
    server.daemon_threads = True
    service.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
