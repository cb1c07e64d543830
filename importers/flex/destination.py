"""Where the Flex token may go: only to the configured service's own domain, never elsewhere.

SendRequest's reply names the GetStatement `Url`, and every request carries `t=<token>`, so a reply (or a
redirect) pointing anywhere else would hand the token to that host. The rule, against `IBKR_FLEX_URL`:

- the registrable domain must be the same (IBKR's SendRequest and GetStatement hosts differ, e.g.
  ndcdyn.interactivebrokers.com and gdcdyn.interactivebrokers.com, both in interactivebrokers.com), taken from
  the Public Suffix List, so `interactivebrokers.com.evil.io` is evil.io and `a.co.uk` never matches `b.co.uk`;
- an IP address must be the same address (127.0.0.1 for the local test service); a name without a
  registrable domain (`localhost`) must be the same name;
- https, unless the configured URL itself is plain http (a local test service).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from .errors import FlexServiceError


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: no network


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def _site(host: str) -> str:
    """What must match: the IP address itself, else the registrable domain, else the whole name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    return _suffixes().privatesuffix(host) or host


def refusal(configured: str, target: str) -> str | None:
    """Why the token may not go to `target`, or None when it may.

    E.g. configured https://ndcdyn.interactivebrokers.com/…: https://gdcdyn.interactivebrokers.com/… -> None;
    http://gdcdyn.interactivebrokers.com/… -> "plain http"; https://interactivebrokers.com.evil.io/… -> "evil.io".
    """
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https"):
        return f"its scheme {scheme or '(none)'} is not http(s)"
    if scheme == "http" and urlsplit(configured).scheme.lower() != "http":
        return "it is plain http, and IBKR_FLEX_URL is https"
    host, home = _host(target), _host(configured)
    if not host:
        return "it names no host"
    if _site(host) != _site(home):
        return f"{host} is not within {_site(home)}, the domain of IBKR_FLEX_URL"
    return None


def check(configured: str, target: str, step: str, where: str) -> None:
    """Raise FlexServiceError (naming `where`: scheme, host and path only, never the query) if refused."""
    reason = refusal(configured, target)
    if reason is not None:
        raise FlexServiceError(
            f"{step}: refusing to send the Flex token to {where}: {reason}",
            hint="nothing was fetched; if IBKR really moved its service, check IBKR_FLEX_URL, else the reply "
                 "did not come from IBKR")
