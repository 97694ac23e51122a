"""Every response's security headers, long-lived caching of the site's static files, and the
bound on full-text searches sent to Datasette's own pages (the asgi_wrapper hook).

* Content-Security-Policy on every response: scripts only from this site, no plugins or
  objects, no framing by other sites, forms only to this site, and no inline script but the
  ones listed by hash. On the reader pages those are the inline scripts of Datasette's own
  page layout (found once, from an empty page); on Datasette's own pages (tables, rows, the
  SQL editor), the inline scripts in that very page as Datasette wrote it (its templates
  carry page data in them), whose hashes are taken from the page before it is sent. There
  the policy relies, as those pages always did, on Datasette escaping what it shows and on
  the site trusting only the columns the build sanitised; what it adds is that inline event
  handlers (``onerror=``) and ``javascript:`` links never run, and that no script, object or
  frame comes from elsewhere. X-Content-Type-Options: nosniff; a Referrer-Policy;
  X-Frame-Options.
* A table exported as CSV is served as ``text/csv``.
* Requests that run arbitrary SQL take one of a few slots (one fewer than Datasette's query
  threads): a query that runs to the time limit never holds every thread, and the reader
  pages keep answering.
* Files under /-/static-plugins/claimkb/ carry a version in their address (``?v=``), so they
  are cached for a year.
* A ``_search`` parameter over the bounds of ``searching`` on Datasette's table pages is
  refused with a 400 page that says why.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from . import searching

_RULES = (
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: no inline script at all (the hashes of those allowed are added by `policy`)
CSP = f"default-src 'self'; script-src 'self'; {_RULES}"
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]
STATIC = "/-/static-plugins/claimkb/"
YEAR = b"public, max-age=31536000, immutable"
Headers = list[tuple[bytes, bytes]]


def _too_large_search(scope: dict[str, Any]) -> str | None:
    if scope.get("type") != "http":
        return None
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if (key == "_search" or key.startswith("_search_")) and searching.too_large(value):
            return (
                f"This search is too long: a search may use at most {searching.MAX_TERMS} "
                f"different words and {searching.MAX_CHARS} characters. Shorten it and try "
                "again."
            )
    return None


_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_scripts(html: str) -> list[str]:
    """The CSP source of each inline script of `html`: 'sha256-...'."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE.findall(html)
    ]


def policy(allowed: tuple[str, ...] = ()) -> str:
    """The policy, allowing the inline scripts with these hashes."""
    return CSP.replace("script-src 'self'", " ".join(["script-src 'self'", *allowed]), 1)


def wrapper(
    own: Callable[[str], bool], allowed: Callable[[], tuple[str, ...]] = tuple, sql_slots: int = 2
) -> Callable[[Any], Any]:
    """The ASGI wrapper. `own(path)` is true for the site's own pages; `allowed()` gives the
    hashes of the layout's inline scripts they may run; at most `sql_slots` requests with
    arbitrary SQL (a ``sql`` parameter) run at once, so that they never take every one of
    Datasette's query threads from the reader pages."""
    slots: list[asyncio.Semaphore] = []

    def wrap(app: Any) -> Any:
        async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") != "http":
                return await app(scope, receive, send)
            refusal = _too_large_search(scope)
            if refusal is not None:
                return await _refuse(send, refusal)
            path = scope.get("path", "")
            if own(path) or path.startswith(STATIC):
                # the policy is made when the response starts: by then the page has learned
                # the layout's scripts (on the first request, while it rendered)
                make = lambda: _headers(path, policy(allowed()))
                return await app(scope, receive, _with(send, make))
            if not _has_sql(scope):
                return await app(scope, receive, _datasette_page(send, path))
            if not slots:
                slots.append(asyncio.Semaphore(sql_slots))
            async with slots[0]:
                await app(scope, receive, _datasette_page(send, path))

        return guarded

    return wrap


def _has_sql(scope: dict[str, Any]) -> bool:
    return any(k == "sql" for k, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _headers(path: str, csp: str) -> Headers:
    out = [*HEADERS, (b"content-security-policy", csp.encode())]
    if path.startswith(STATIC):
        out.append((b"cache-control", YEAR))
    return out


def _replace(message: dict[str, Any], headers: Headers) -> dict[str, Any]:
    names = {k for k, _ in headers}
    keep = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    return {**message, "headers": keep + headers}


def _with(send: Any, make: Callable[[], Headers]) -> Any:
    """`send`, with the headers `make()` gives replacing the response's own of those names."""

    async def send_with_headers(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = _replace(message, make())
        await send(message)

    return send_with_headers


def _content_type(message: dict[str, Any]) -> bytes:
    return dict((k.lower(), v) for k, v in message.get("headers", [])).get(b"content-type", b"")


def _datasette_page(send: Any, path: str) -> Any:
    """`send` for Datasette's own responses: an HTML page is held until it is complete, so
    that its policy can list the hashes of the inline scripts in it; CSV is text/csv."""
    held: dict[str, Any] = {}
    body: list[bytes] = []

    async def send_page(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            kind = _content_type(message)
            if kind.startswith(b"text/html"):
                held["start"] = message
                return
            extra = _headers(path, CSP)
            if path.endswith(".csv") and kind.startswith(b"text/plain"):
                extra.append((b"content-type", b"text/csv; charset=utf-8"))
            return await send(_replace(message, extra))
        if "start" not in held or message["type"] != "http.response.body":
            return await send(message)
        body.append(message.get("body", b""))
        if message.get("more_body"):
            return
        page = b"".join(body)
        scripts = tuple(inline_scripts(page.decode("utf-8", "replace")))
        await send(_replace(held.pop("start"), _headers(path, policy(scripts))))
        await send({"type": "http.response.body", "body": page})

    return send_page


async def _refuse(send: Any, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
                (b"content-security-policy", CSP.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
