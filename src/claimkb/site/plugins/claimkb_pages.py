"""Reader pages: claim, equation, reference, document, reading view, vocabulary.

Each page is one route (register_routes) that runs a few read-only queries
against the served database and renders a template from site/templates.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from claimkb.site import common as C


async def _rows(db, sql, params=None):
    return [dict(r) for r in (await db.execute(sql, params or {})).rows]


async def _one(db, sql, params, what):
    rows = await _rows(db, sql, params)
    if not rows:
        raise NotFound(f"no {what} {params.get('id')!r}")
    return rows[0]


async def _context(db, document_id, start, end, before=360, after=360):
    """Text around [start, end) of a document (substr counts code points, as the offsets do)."""
    lo = max(0, start - before - 40)
    hi = end + after + 40
    r = await _rows(
        db,
        "select substr(text, :a, :n) as t, char_count from documents where id = :d",
        {"a": lo + 1, "n": hi - lo, "d": document_id},
    )
    if not r:
        return None
    window = r[0]["t"] or ""
    pre, quote, post, cut_pre, cut_post = C.context_snippet(
        window, start - lo, end - lo, before=before, after=after
    )
    return {
        "before": pre,
        "quote": quote,
        "after": post,
        "cut_before": cut_pre or lo > 0,
        "cut_after": cut_post or (lo + len(window) < (r[0]["char_count"] or 0)),
    }


async def _evidence(db, about_type, about_id):
    return await _rows(
        db,
        """select e.*, b.label as cited_label, b.title as cited_title
           from evidence e left join bibliography b on b.id = e.cites_bibliography_id
           where e.about_type = :t and e.about_id = :id order by e.rowid""",
        {"t": about_type, "id": about_id},
    )


async def _checks(db, about_id):
    return await _rows(
        db,
        """select checks.* from checks left join severities on severities.term = checks.severity
           where about_id = :id order by severities.rank, checks.id""",
        {"id": about_id},
    )


def _page(datasette, request, template, context):
    async def render():
        vocab = await C.vocabulary(datasette)
        ctx = {
            "ckb_vocab": vocab,
            "ckb_db": C.kb_database_name(datasette),
            "ckb_url": lambda kind, rid, read=False: C.record_url(datasette, kind, rid, read=read),
            **context,
        }
        html = await datasette.render_template(template, ctx, request=request, view_name="claimkb")
        return Response.html(html)

    return render()


def _id(request):
    return unquote(request.url_vars["id"])


async def claim_page(datasette, request):
    db = C.kb_database(datasette)
    cid = _id(request)
    claim = await _one(
        db,
        """select c.*, d.title as document_title from claims c join documents d on d.id = c.document_id
           where c.id = :id""",
        {"id": cid},
        "claim",
    )
    links = await _rows(
        db,
        """select 'out' as direction, l.relation, l.note, c.id, c.statement, c.status, c.document_id,
                  d.title as document_title
             from claim_links l join claims c on c.id = l.to_claim join documents d on d.id = c.document_id
            where l.from_claim = :id
           union all
           select 'in', l.relation, l.note, c.id, c.statement, c.status, c.document_id, d.title
             from claim_links l join claims c on c.id = l.from_claim join documents d on d.id = c.document_id
            where l.to_claim = :id""",
        {"id": cid},
    )
    cites = await _rows(
        db,
        """select b.* from claim_citations cc join bibliography b on b.id = cc.bibliography_id
           where cc.claim_id = :id order by b.position""",
        {"id": cid},
    )
    return await _page(
        datasette,
        request,
        "claimkb_claim.html",
        {
            "claim": claim,
            "context": await _context(
                db, claim["document_id"], claim["quote_start"], claim["quote_end"]
            ),
            "evidence": await _evidence(db, "claim", cid),
            "cites": cites,
            "links": links,
            "checks": await _checks(db, cid),
            "title": f"Claim {cid}",
        },
    )


async def equation_page(datasette, request):
    db = C.kb_database(datasette)
    eid = _id(request)
    eq = await _one(
        db,
        """select e.*, d.title as document_title from equations e join documents d on d.id = e.document_id
           where e.id = :id""",
        {"id": eid},
        "equation",
    )
    cites = await _rows(
        db,
        """select b.* from equation_citations ec join bibliography b on b.id = ec.bibliography_id
           where ec.equation_id = :id order by b.position""",
        {"id": eid},
    )
    symbols = C.json_list(eq.get("symbols"))
    return await _page(
        datasette,
        request,
        "claimkb_equation.html",
        {
            "eq": eq,
            "symbols": [s for s in symbols if isinstance(s, dict)],
            "context": await _context(db, eq["document_id"], eq["quote_start"], eq["quote_end"]),
            "evidence": await _evidence(db, "equation", eid),
            "cites": cites,
            "checks": await _checks(db, eid),
            "title": f"Equation {eq.get('label') or eid}",
        },
    )


async def reference_page(datasette, request):
    db = C.kb_database(datasette)
    rid = _id(request)
    ref = await _one(
        db,
        """select b.*, d.title as document_title from bibliography b join documents d on d.id = b.document_id
           where b.id = :id""",
        {"id": rid},
        "bibliography entry",
    )
    cited_by = await _rows(
        db,
        """select 'claim' as kind, c.id, c.statement as text, c.status from claim_citations cc
             join claims c on c.id = cc.claim_id where cc.bibliography_id = :id
           union all
           select 'equation', e.id, coalesce('Equation (' || e.label || ')', 'Equation ' || e.id), e.status
             from equation_citations ec join equations e on e.id = ec.equation_id where ec.bibliography_id = :id""",
        {"id": rid},
    )
    used_as_evidence = await _rows(
        db,
        """select e.id, e.about_type, e.about_id, e.stance, e.note from evidence e
           where e.cites_bibliography_id = :id order by e.rowid""",
        {"id": rid},
    )
    return await _page(
        datasette,
        request,
        "claimkb_reference.html",
        {
            "ref": ref,
            "problems": C.json_list(ref.get("problems")),
            "context": await _context(db, ref["document_id"], ref["quote_start"], ref["quote_end"]),
            "evidence": await _evidence(db, "bibliography", rid),
            "cited_by": cited_by,
            "used_as_evidence": used_as_evidence,
            "checks": await _checks(db, rid),
            "title": f"Reference {ref['label']}",
        },
    )


async def _distribution(db, vocab_table, table, column, document_id):
    """Counts of `table` rows of one document per vocabulary term (every term, best first)."""
    terms = await _rows(db, f"select term, rank from [{vocab_table}] order by rank")
    counts = {
        r["term"]: r["n"]
        for r in await _rows(
            db,
            f"select [{column}] as term, count(*) as n from [{table}] where document_id = :d group by 1",
            {"d": document_id},
        )
    }
    rows = [{"term": t["term"], "rank": t["rank"], "n": counts.get(t["term"], 0)} for t in terms]
    return {"rows": rows, "total": sum(counts.values())}


#: at most this many claims, equations and references are listed on a document page
#: (the rest are one click away in the table view)
LIST_LIMIT = 1000


async def document_page(datasette, request):
    db = C.kb_database(datasette)
    did = _id(request)
    doc = await _one(
        db,
        """select id, title, authors, affiliation, year, venue, venue_verified, doi, arxiv_id, url, kind, language,
                  sha256, received_from, metadata_notes, assessment, assessment_status, char_count
           from documents where id = :id""",
        {"id": did},
        "document",
    )
    claims = await _rows(
        db,
        """select c.id, c.statement, c.status, c.claim_type, c.voice, c.section, c.confidence,
                  (select count(*) from evidence e where e.claim_id = c.id) as evidence_count
           from claims c where c.document_id = :id order by c.position limit :limit""",
        {"id": did, "limit": LIST_LIMIT},
    )
    equations = await _rows(
        db,
        "select * from equations where document_id = :id order by position limit :limit",
        {"id": did, "limit": LIST_LIMIT},
    )
    bibliography = await _rows(
        db,
        """select id, label, as_printed, title, authors, year, doi, isbn, arxiv_id, url, citation_status,
                  problem_count, self_citation, status
           from bibliography where document_id = :id order by position limit :limit""",
        {"id": did, "limit": LIST_LIMIT},
    )
    dists = [
        (
            "Claims by evidence status",
            "evidence_status",
            "status",
            "claims",
            await _distribution(db, "evidence_statuses", "claims", "status", did),
        ),
        (
            "Equations by check status",
            "check_status",
            "check_status",
            "equations",
            await _distribution(db, "check_statuses", "equations", "check_status", did),
        ),
        (
            "References by citation status",
            "citation_status",
            "citation_status",
            "bibliography",
            await _distribution(db, "citation_statuses", "bibliography", "citation_status", did),
        ),
    ]
    return await _page(
        datasette,
        request,
        "claimkb_document.html",
        {
            "doc": doc,
            "claims": claims,
            "equations": equations,
            "bibliography": bibliography,
            "distributions": dists,
            "limit": LIST_LIMIT,
            "checks": await _checks(db, did),
            "title": doc["title"],
        },
    )


# --- reading view --------------------------------------------------------------------------

_KIND_LABEL = {"claim": "claim", "equation": "equation", "bibliography": "reference"}


def segments(length: int, spans: list[dict]) -> list[tuple[int, int, list[dict]]]:
    """Split [0, length) at every span boundary: [(start, end, spans covering it, outermost first)].

    Spans are dicts with `start` and `end` (code points, end exclusive). Empty
    and out-of-range spans are clipped; uncovered stretches get an empty list.
    """
    bounds = {0, length}
    clipped = []
    for sp in spans:
        s, e = max(0, min(length, sp["start"])), max(0, min(length, sp["end"]))
        if e > s:
            clipped.append((s, e, sp))
            bounds.update((s, e))
    cuts = sorted(bounds)
    starts: dict[int, list] = {}
    for s, e, sp in clipped:
        starts.setdefault(s, []).append((s, e, sp))
    active: list[tuple[int, int, dict]] = []
    out = []
    for a, b in zip(cuts, cuts[1:]):
        active = [x for x in active if x[1] > a] + starts.get(a, [])
        # outermost (longest, earliest) first; innermost last
        active.sort(key=lambda x: (x[0], -x[1]))
        out.append((a, b, [x[2] for x in active]))
    return out


def _short(kind: str, rid: str) -> str:
    """A short visible tag for a record: the part of its id after the last '-' (c012, eq03, ref11)."""
    return rid.rsplit("-", 1)[-1]


async def reading_page(datasette, request):
    db = C.kb_database(datasette)
    did = _id(request)
    doc = await _one(
        db,
        "select id, title, text, char_count, kind, assessment_status from documents where id = :id",
        {"id": did},
        "document",
    )
    vocab = await C.vocabulary(datasette)
    spans = await _rows(
        db,
        """select 'claim' as kind, id, quote_start as start, quote_end as "end", status, null as check_status,
                  null as citation_status, statement as label, null as latex, position
             from claims where document_id = :id
           union all
           select 'equation', id, quote_start, quote_end, status, check_status, null,
                  coalesce('Equation (' || label || ')', 'Equation ' || id), latex, position
             from equations where document_id = :id
           union all
           select 'bibliography', id, quote_start, quote_end, status, null, citation_status,
                  'Reference ' || label || coalesce(': ' || title, ''), null, position
             from bibliography where document_id = :id""",
        {"id": did},
    )
    stored = {
        r["id"]: r.get("mathml")
        for r in await _rows(db, "select * from equations where document_id = :id", {"id": did})
    }
    for sp in spans:
        sp["mathml"] = stored.get(sp["id"]) if sp["kind"] == "equation" else None
        if sp["kind"] == "bibliography":
            sp["vocab"], sp["term"] = "citation_status", sp["citation_status"]
        else:
            sp["vocab"], sp["term"] = "evidence_status", sp["status"]
        sp["colour"], sp["text_colour"] = C.colours(vocab, sp["vocab"], sp["term"])
        sp["url"] = C.record_url(datasette, sp["kind"], sp["id"])
        sp["anchor"] = f"{sp['kind']}-{sp['id']}"
        sp["short"] = _short(sp["kind"], sp["id"])
    text = doc["text"] or ""
    html = render_reading(text, spans, vocab)
    counts = {}
    for sp in spans:
        counts[sp["kind"]] = counts.get(sp["kind"], 0) + 1
    used = {
        ("evidence_status" if sp["kind"] != "bibliography" else "citation_status", sp["term"])
        for sp in spans
    }
    return await _page(
        datasette,
        request,
        "claimkb_read.html",
        {
            "doc": {k: v for k, v in doc.items() if k != "text"},
            "body": html,
            "counts": counts,
            "used": used,
            "title": f"Read: {doc['title']}",
        },
    )


def _mark_style(covering: list[dict]) -> str:
    inner = covering[-1]
    stripes = ", ".join(
        f"inset 0 -{3 * (i + 1)}px 0 {sp['colour']}" for i, sp in enumerate(reversed(covering))
    )
    return f"--ckb-bg:{inner['colour']};box-shadow:{stripes};padding-bottom:{3 * (len(covering) - 1)}px"


def render_reading(text: str, spans: list[dict], vocab: dict) -> Markup:
    """The whole text, each segment marked with every span that covers it."""
    parts: list[str] = []
    ends_at: dict[int, list[dict]] = {}
    for sp in spans:
        ends_at.setdefault(min(len(text), sp["end"]), []).append(sp)
    started: set[str] = set()
    for a, b, covering in segments(len(text), spans):
        chunk = str(escape(text[a:b]))
        if not covering:
            parts.append(chunk)
        else:
            starts = []
            for sp in covering:
                if sp["anchor"] not in started and sp["start"] <= a:
                    started.add(sp["anchor"])
                    starts.append(sp)
            for sp in starts:
                parts.append(
                    str(
                        Markup(
                            '<a class="ckb-start ckb-start-{kind}" id="{anchor}" href="{url}" style="--ckb-bg:{bg};--ckb-fg:{fg}" '
                            'title="{kindlabel} {id} ({term}): {label}"><span class="ckb-vh">{kindlabel} {id}, {term}: </span>'
                            '<span aria-hidden="true">{short}</span></a>'
                        ).format(
                            kind=sp["kind"],
                            anchor=sp["anchor"],
                            url=sp["url"],
                            bg=sp["colour"],
                            fg=sp["text_colour"],
                            kindlabel=_KIND_LABEL[sp["kind"]],
                            id=sp["id"],
                            term=sp["term"],
                            label=sp["label"],
                            short=sp["short"],
                        )
                    )
                )
            kinds = " ".join(sorted({f"ckb-hl-{sp['kind']}" for sp in covering}))
            ids = " ".join(sp["anchor"] for sp in covering)
            if len(covering) == 1:
                sp = covering[0]
                parts.append(
                    str(
                        Markup(
                            '<a class="ckb-hl {kinds}" href="{url}" data-spans="{ids}" style="{style}" title="{kindlabel} {id} ({term}): {label}">{chunk}</a>'
                        ).format(
                            kinds=kinds,
                            url=sp["url"],
                            ids=ids,
                            style=_mark_style(covering),
                            kindlabel=_KIND_LABEL[sp["kind"]],
                            id=sp["id"],
                            term=sp["term"],
                            label=sp["label"],
                            chunk=Markup(chunk),
                        )
                    )
                )
            else:
                items = Markup("").join(
                    Markup(
                        '<li><a href="{url}">{badge} <span class="ckb-pop-kind">{kindlabel} {id}</span> {label}</a></li>'
                    ).format(
                        url=sp["url"],
                        badge=C.badge(vocab, sp["vocab"], sp["term"]),
                        kindlabel=_KIND_LABEL[sp["kind"]],
                        id=sp["id"],
                        label=sp["label"],
                    )
                    for sp in reversed(covering)
                )
                title = "; ".join(
                    f"{_KIND_LABEL[sp['kind']]} {sp['id']} ({sp['term']})"
                    for sp in reversed(covering)
                )
                parts.append(
                    str(
                        Markup(
                            '<span class="ckb-hl ckb-hl-multi {kinds}" tabindex="0" data-spans="{ids}" style="{style}" '
                            'title="{n} records: {title}">{chunk}<span class="ckb-pop" role="group" aria-label="{n} records here">'
                            "<ul>{items}</ul></span></span>"
                        ).format(
                            kinds=kinds,
                            ids=ids,
                            style=_mark_style(covering),
                            n=len(covering),
                            title=title,
                            chunk=Markup(chunk),
                            items=items,
                        )
                    )
                )
        for sp in ends_at.get(b, []):
            if sp["kind"] == "equation" and sp.get("latex"):
                parts.append(
                    str(
                        Markup(
                            '<a class="ckb-eq-render" href="{url}" title="{label}, rendered">{m}</a>'
                        ).format(
                            url=sp["url"],
                            label=sp["label"],
                            m=C.math_block(
                                sp["latex"], sp.get("mathml"), display=False, label=sp["label"]
                            ),
                        )
                    )
                )
    return Markup("".join(parts))


async def vocabulary_page(datasette, request):
    db = C.kb_database(datasette)
    rows = await _rows(db, "select * from vocabulary")
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r["vocabulary"], []).append(r)
    for g in groups.values():
        g.sort(key=lambda r: r["rank"])
    return await _page(
        datasette, request, "claimkb_vocabulary.html", {"groups": groups, "title": "Vocabulary"}
    )


async def home_page(datasette, request):
    """The home page (templates/index.html), without Datasette's IndexView.

    IndexView lists every table of every database for its default template, deep-copying
    the metadata once per table and permission check: 90 ms of a 200 ms home page at a
    million claims, for a list our index.html does not show (it shows claimkb_cells.home_data).
    Same template, same context keys, same headers; /.json is still Datasette's."""
    from datasette.utils import path_with_format
    from datasette.utils.asgi import Forbidden
    from datasette.version import __version__

    if not await datasette.permission_allowed(request.actor, "view-instance", default=True):
        raise Forbidden("view-instance")
    databases = [
        {
            "name": name,
            "color": db.hash[:6] if db.hash else hashlib.md5(name.encode("utf8")).hexdigest()[:6],
            "path": datasette.urls.database(name),
        }
        for name, db in datasette.databases.items()
        if name != "_internal"
    ]
    alternate = datasette.absolute_url(
        request, datasette.urls.path(path_with_format(request=request, format="json"))
    )
    context = {
        "databases": databases,
        "metadata": datasette.metadata(),
        "datasette_version": __version__,
        "private": not await datasette.permission_allowed(None, "view-instance", default=True),
        "database_color": lambda database: "ff0000",
        "select_templates": ["*index.html"],
        "alternate_url_json": alternate,
    }
    html = await datasette.render_template(
        "index.html", context, request=request, view_name="index"
    )
    return Response.html(
        html, headers={"Link": f'{alternate}; rel="alternate"; type="application/json+datasette"'}
    )


@hookimpl
def register_routes(datasette):
    return [
        (r"^/$", home_page),
        (r"^/claim/(?P<id>[^/]+)$", claim_page),
        (r"^/equation/(?P<id>[^/]+)$", equation_page),
        (r"^/reference/(?P<id>[^/]+)$", reference_page),
        (r"^/document/(?P<id>[^/]+)$", document_page),
        (r"^/document/(?P<id>[^/]+)/read$", reading_page),
        (r"^/vocabulary$", vocabulary_page),
    ]
