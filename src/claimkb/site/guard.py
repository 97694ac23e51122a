"""Every response's security headers, long-lived caching of the site's static files, and the
bound on full-text searches sent to Datasette's own pages (the asgi_wrapper hook).

* Content-Security-Policy: scripts only from this site, no plugins or objects, no framing
  by other sites, forms only to this site; X-Content-Type-Options: nosniff; a
  Referrer-Policy. On the reader pages the only inline scripts that run are those of
  Datasette's own page layout, allowed by their hashes (found at startup); the site's own
  script is a static file. Datasette's own pages (tables, rows, the SQL editor) keep the
  inline scripts their templates carry, which vary with the page: there, inline scripts
  are allowed and every other rule holds.
* Files under /-/static-plugins/claimkb/ carry a version in their address (``?v=``), so they
  are cached for a year.
* A ``_search`` parameter over the bounds of ``searching`` on Datasette's table pages is
  refused with a 400 page that says why (FTS5 ranking cannot be interrupted once started).
"""

from __future__ import annotations

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
#: the reader pages' policy: no inline script but those allowed by hash
CSP = f"default-src 'self'; script-src 'self'; {_RULES}"
#: Datasette's own pages: their templates' inline scripts run
CSP_DATASETTE = f"default-src 'self'; script-src 'self' 'unsafe-inline'; {_RULES}"
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]
STATIC = b"/-/static-plugins/claimkb/"
YEAR = b"public, max-age=31536000, immutable"


def _too_large_search(scope: dict[str, Any]) -> str | None:
    if scope.get("type") != "http":
        return None
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if (key == "_search" or key.startswith("_search_")) and searching.too_large(value):
            return (f"This search is too long: a search may use at most {searching.MAX_TERMS} "
                    f"different words and {searching.MAX_CHARS} characters. Shorten it and try "
                    "again.")
    return None


_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_scripts(html: str) -> list[str]:
    """The CSP source of each inline script of `html`: 'sha256-...'."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
            for s in _INLINE.findall(html)]


def policy(allowed: tuple[str, ...] = ()) -> str:
    """The reader pages' policy, allowing the inline scripts with these hashes."""
    return CSP.replace("script-src 'self'", " ".join(["script-src 'self'", *allowed]), 1)


def wrapper(own: Callable[[str], bool],
            allowed: Callable[[], tuple[str, ...]] = tuple) -> Callable[[Any], Any]:
    """The ASGI wrapper. `own(path)` is true for the site's own pages; `allowed()` gives the
    hashes of the inline scripts they may run."""

    def wrap(app: Any) -> Any:
        async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") != "http":
                return await app(scope, receive, send)
            refusal = _too_large_search(scope)
            if refusal is not None:
                return await _refuse(send, refusal)
            path = scope.get("path", "")
            await app(scope, receive, _with(send, lambda: _headers(path, own, allowed)))

        return guarded

    return wrap


def _headers(path: str, own: Callable[[str], bool],
             allowed: Callable[[], tuple[str, ...]]) -> list[tuple[bytes, bytes]]:
    static = path.startswith(STATIC.decode())
    csp = policy(allowed()) if own(path) or static else CSP_DATASETTE
    out = [*HEADERS, (b"content-security-policy", csp.encode())]
    if static:
        out.append((b"cache-control", YEAR))
    return out


def _with(send: Any, make: Callable[[], list[tuple[bytes, bytes]]]) -> Any:
    """`send`, with the headers `make()` gives (when the response starts) replacing the
    response's own of the same names."""

    async def send_with_headers(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = make()
            names = {k for k, _ in headers}
            keep = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message = {**message, "headers": keep + headers}
        await send(message)

    return send_with_headers


async def _refuse(send: Any, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS,
                            (b"content-security-policy", CSP.encode())]})
    await send({"type": "http.response.body", "body": body})
