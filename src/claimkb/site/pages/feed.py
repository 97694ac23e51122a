"""An Atom feed of assessments: every re-rating (newest first) with its reason, and the
claims of the latest build when the history is empty. Follow it to see the knowledge
base change."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from datasette import Response

from .. import kb
from ..render import plain
from . import method_not_allowed
from .records import base_url

ENTRIES = 200

_CHANGES = """
select h.record_id, h.record_type, h.seq, h.status as earlier, h.date, h.reason,
       coalesce(c.status, e.status) as status, coalesce(c.statement, 'Equation ' || e.label) as
       what
from assessment_history h
left join claims c on h.record_type = 'claim' and c.id = h.record_id
left join equations e on h.record_type = 'equation' and e.id = h.record_id
order by h.date desc, h.record_id, h.seq desc limit :n
"""
_LATEST = """
select id as record_id, 'claim' as record_type, 0 as seq, null as earlier, :date as date,
       rationale as reason, status, statement as what
from claims where status <> 'not assessed' order by id limit :n
"""


def _entry(base: str, r: dict[str, Any]) -> str:
    path = "claim" if r["record_type"] == "claim" else "equation"
    link = f"{base}/{path}/{r['record_id']}"
    change = f"{r['earlier']} → {r['status']}" if r["earlier"] else r["status"]
    title = f"{r['record_id']}: {change}"
    body = f"Now {r['status']}. {plain(r['reason'])}".strip()
    return (
        f"<entry><id>{escape(link)}#{r['seq']}</id><title>{escape(title)}</title>"
        f"<updated>{escape(r['date'])}T00:00:00Z</updated>"
        f'<link rel="alternate" type="text/html" href="{escape(link, {chr(34): "&quot;"})}"/>'
        f"<summary>{escape(plain(r['what']))}</summary>"
        f'<content type="text">{escape(body)}</content></entry>'
    )


async def feed(datasette: Any, request: Any) -> Response:
    refused = method_not_allowed(request)
    if refused is not None:
        return refused
    db = await kb.database(datasette)
    base = base_url(datasette, request)
    rows = await kb.rows(db, _CHANGES, {"n": ENTRIES})
    if not rows:
        built = await kb.rows(db, "select value from build_info where key = 'built_at'")
        date = built[0]["value"][:10] if built else "1970-01-01"
        rows = await kb.rows(db, _LATEST, {"n": ENTRIES, "date": date})
    updated = max((r["date"] for r in rows), default="1970-01-01")
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(base)}/feed.atom</id><title>claimkb: assessments</title>"
        f"<updated>{escape(updated)}T00:00:00Z</updated>"
        f'<link rel="self" href="{escape(base)}/feed.atom"/>'
        f'<link rel="alternate" type="text/html" href="{escape(base)}/"/>'
        "<author><name>claimkb</name></author>"
        + "".join(_entry(base, r) for r in rows)
        + "</feed>\n"
    )
    return Response(
        xml,
        content_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


ROUTES = [(r"^/feed\.atom$", feed)]
