"""W3C Web Annotation JSON-LD: every claim and equation as an annotation on its document.

The output is a JSON array with one ``AnnotationCollection`` per document (Web Annotation
Data Model, W3C Recommendation 2017-02-23, section 5). Each element is a complete,
self-contained Web Annotation document, so a tool that reads one collection (or one
annotation) per document can take the elements one by one; a JSON-LD processor reads the
whole array as it is. A document with no claim or equation is an empty collection.

Collection (section 5.1):

- ``@context``: ``["http://www.w3.org/ns/anno.jsonld", {"assessing": "oa:assessing"}]``.
  Sections 3.1 and 5.1 allow more than one context value as long as anno.jsonld is one of
  them. The extra term is there because the anno.jsonld published in 2016-2017 (the copy
  bundled here) has no ``assessing`` term: the motivation ``oa:reviewing`` was renamed to
  ``oa:assessing`` in the model, and the context was only corrected in 2021 (w3c/web-annotation
  issue 444). With that copy, ``"motivation": "assessing"`` would expand to a relative IRI;
  with the extra term it expands to ``oa:assessing`` under either version;
- ``id``: ``BASE/document/ID#annotations``, ``type`` ``AnnotationCollection``, ``label``,
  ``creator`` and ``total`` (the number of annotations);
- ``first``: the one ``AnnotationPage`` (section 5.2), embedded, with ``id``
  ``BASE/document/ID#annotations-page-1``, ``partOf`` the collection, ``startIndex`` 0 and
  ``items``: the annotations in reading order (by position in the text). ``last`` is that
  page's IRI. A collection with no annotations has neither (section 5.1: ``first`` is
  required only when ``total`` is above 0; a page needs at least one item).

Annotation (sections 3 and 4), one per claim and per equation, every evidence status
included (``not assessed`` is a status like the others):

- ``id``: ``BASE/claim/ID#annotation`` or ``BASE/equation/ID#annotation``, the record's
  page on the site; ``type`` ``Annotation``; ``motivation`` ``assessing`` (section 3.3.5);
- ``created``: when the build that wrote the database ran (build_info ``built_at``), and
  ``modified``: its last incremental update (``updated_at``), when there was one, both
  ``xsd:dateTime`` in UTC with ``Z`` (section 3.3.1). They date the database, not the
  curator's assessment;
- ``creator``: the knowledge base as an ``Organization`` (``--publisher``, with
  ``--publisher-url`` as its ``homepage``); ``generator``: claimkb as ``Software``;
- ``body`` (sections 3.2.1, 3.2.4, 3.3.5 and 4.1): a ``TextualBody`` with ``purpose``
  ``tagging`` whose value is the evidence status; for a claim, a ``TextualBody`` with purpose
  ``describing``: the statement (``text/plain``); a ``TextualBody`` with purpose ``assessing``:
  the rationale (``text/markdown``), when there is one; and the record's page on the site
  (an external resource of type ``Text``, ``text/html``);
- ``target``: a ``SpecificResource`` whose ``source`` is the document's IRI and whose
  ``selector`` holds two alternatives for the same passage (section 4.2): a
  ``TextQuoteSelector`` (``exact`` = the stored text between the offsets, ``prefix`` and
  ``suffix`` = up to 32 characters of the stored text before and after it) and a
  ``TextPositionSelector`` (``start``, ``end``: claims.quote_start and quote_end).

Offsets and lengths count Unicode code points of documents.text (Python ``str`` indices),
which is what the model asks for (sections 4.2.4 and 4.2.5: "The selection of the text MUST be
in terms of unicode code points (the "character number"), not in terms of code units"). A
JavaScript client counts UTF-16 code units, which differ after any character outside the
Basic Multilingual Plane. ``exact`` is taken from the text, not from the curated quote, which
may differ in whitespace.

The target's ``source`` is the document's ``url`` (where the document was found: of the IRIs
known, the one nearest to the stored text), else ``https://doi.org/DOI``, else
``https://arxiv.org/abs/ID``, else ``urn:claimkb:document:ID`` (stable, as the document id
names its data file; the URN namespace is not registered). It is a plain IRI, as Hypothesis
writes it in its own JSON-LD, so a reader that expects ``target.source`` to be a string finds
one. The positions count the stored text: where the source's representation differs from it
(an HTML page, a PDF), re-anchor with the TextQuoteSelector.

The bundled ``anno.jsonld`` (so that tests and users can expand the export offline: nothing
here fetches it) is, byte for byte, ``jsonld/anno.jsonld`` of the GitHub repository
w3c/web-annotation at commit 74992e5 (identical to its ``admin/ns/anno.jsonld``, the Working
Group's copy for http://www.w3.org/ns/anno.jsonld, last changed in 946cdac of 2016-11-23; git blob
48da447c333a0c6f017f679b41c1ae5275f9cab3). Copyright W3C, used under the W3C Software and
Document License.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from ..ingest.anchor import CONTEXT

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
#: the @context of every collection: anno.jsonld, plus the term its 2016 text lacks
COLLECTION_CONTEXT: list[Any] = [ANNO_CONTEXT, {"assessing": "oa:assessing"}]
#: where the bundled copy of anno.jsonld comes from
CONTEXT_ORIGIN = {
    "repository": "w3c/web-annotation",
    "path": "jsonld/anno.jsonld",
    "commit": "74992e5d3ca3ac10b3289f6c855c876cc9b024a1",
    "blob": "48da447c333a0c6f017f679b41c1ae5275f9cab3",
}


def bundled_context() -> dict[str, Any]:
    """The bundled anno.jsonld, parsed."""
    text = resources.files(__package__).joinpath("anno.jsonld").read_text(encoding="utf-8")
    return json.loads(text)


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """A pyld document loader that serves the bundled anno.jsonld and refuses any other URL."""
    if url != ANNO_CONTEXT:
        raise ValueError(f"no local copy of {url}: only {ANNO_CONTEXT} is bundled")
    return {"contextUrl": None, "documentUrl": url, "document": bundled_context()}


def w3c_datetime(value: str) -> str:
    """An ISO 8601 time as xsd:dateTime in UTC with "Z" (model section 3.3.1)."""
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_url(base_url: str, kind: str, record_id: str) -> str:
    """The address of a record's page (kind: claim, equation, document) on the site."""
    return f"{base_url.rstrip('/')}/{kind}/{quote(record_id, safe='')}"


def source_iri(doc: dict[str, Any]) -> str:
    """The IRI of the annotated document: its URL, DOI, arXiv page or a claimkb URN."""
    if doc.get("url"):
        return doc["url"]
    if doc.get("doi"):
        return f"https://doi.org/{quote(doc['doi'], safe='/:;()._-')}"
    if doc.get("arxiv_id"):
        return f"https://arxiv.org/abs/{doc['arxiv_id']}"
    return f"urn:claimkb:document:{doc['id']}"


def selectors(text: str, start: int, end: int) -> list[dict[str, Any]]:
    """A TextQuoteSelector and a TextPositionSelector for text[start:end]."""
    return [
        {
            "type": "TextQuoteSelector",
            "exact": text[start:end],
            "prefix": text[max(0, start - CONTEXT) : start],
            "suffix": text[end : end + CONTEXT],
        },
        {"type": "TextPositionSelector", "start": start, "end": end},
    ]


def bodies(record: dict[str, Any], kind: str, page: str) -> list[dict[str, Any]]:
    """The status as a tag, the statement, the rationale and the record's page."""
    out: list[dict[str, Any]] = [
        {"type": "TextualBody", "purpose": "tagging", "value": record["status"]}
    ]
    if kind == "claim":
        out.append(
            {
                "type": "TextualBody",
                "purpose": "describing",
                "value": record["statement"],
                "format": "text/plain",
            }
        )
    if record.get("rationale"):
        out.append(
            {
                "type": "TextualBody",
                "purpose": "assessing",
                "value": record["rationale"],
                "format": "text/markdown",
            }
        )
    out.append({"id": page, "type": "Text", "format": "text/html"})
    return out


def annotation(
    record: dict[str, Any],
    kind: str,
    *,
    text: str,
    source: str,
    base_url: str,
    common: dict[str, Any],
) -> dict[str, Any]:
    """One annotation: a claim or an equation (kind), its passage of the text and its status.

    common holds creator, generator and, when known, created and modified.
    """
    page = page_url(base_url, kind, record["id"])
    return {
        "id": f"{page}#annotation",
        "type": "Annotation",
        "motivation": "assessing",
        **common,
        "body": bodies(record, kind, page),
        "target": {
            "type": "SpecificResource",
            "source": source,
            "selector": selectors(text, record["quote_start"], record["quote_end"]),
        },
    }


def collection(
    doc: dict[str, Any], items: list[dict[str, Any]], *, base_url: str, creator: dict[str, Any]
) -> dict[str, Any]:
    """The AnnotationCollection of one document, with its one page embedded."""
    cid = page_url(base_url, "document", doc["id"]) + "#annotations"
    out: dict[str, Any] = {
        "@context": copy.deepcopy(COLLECTION_CONTEXT),
        "id": cid,
        "type": "AnnotationCollection",
        "label": f"Claims and equations of {doc['title']}, with their evidence status",
        "creator": creator,
        "total": len(items),
    }
    if items:
        pid = f"{cid}-page-1"
        out["first"] = {
            "id": pid,
            "type": "AnnotationPage",
            "partOf": cid,
            "startIndex": 0,
            "items": items,
        }
        out["last"] = pid
    return out


def lifecycle(
    build: dict[str, str], *, publisher: str, publisher_url: str | None, version: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(creator, the agents and times every annotation carries) from build_info."""
    creator: dict[str, Any] = {"type": "Organization", "name": publisher}
    if publisher_url:
        creator["homepage"] = publisher_url
    common: dict[str, Any] = {}
    if build.get("built_at"):
        common["created"] = w3c_datetime(build["built_at"])
    if build.get("updated_at"):
        common["modified"] = w3c_datetime(build["updated_at"])
    common["creator"] = creator
    common["generator"] = {"type": "Software", "name": f"claimkb {version}"}
    return creator, common


def _build_info(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return {r["key"]: r["value"] for r in conn.execute("select key, value from build_info")}
    except sqlite3.OperationalError:  # a database without build_info: no dates
        return {}


def _records(conn: sqlite3.Connection, doc_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, row) of a document's claims and equations, in the order of the text."""
    out = [
        (kind, dict(r))
        for kind, table in (("claim", "claims"), ("equation", "equations"))
        for r in conn.execute(f"select * from {table} where document_id = ?", (doc_id,))
    ]
    out.sort(key=lambda kr: (kr[1]["quote_start"], kr[1]["quote_end"], kr[0], kr[1]["id"]))
    return out


def web_annotations(
    conn: sqlite3.Connection,
    *,
    base_url: str,
    publisher: str = "claimkb",
    publisher_url: str | None = None,
    version: str | None = None,
) -> list[dict[str, Any]]:
    """One AnnotationCollection per document, in document id order."""
    if version is None:
        from importlib.metadata import version as _version

        version = _version("claimkb")
    creator, common = lifecycle(
        _build_info(conn), publisher=publisher, publisher_url=publisher_url, version=version
    )
    out = []
    for d in conn.execute("select * from documents order by id"):
        doc = dict(d)
        source = source_iri(doc)
        items = [
            annotation(rec, kind, text=doc["text"], source=source, base_url=base_url, common=common)
            for kind, rec in _records(conn, doc["id"])
        ]
        out.append(collection(doc, items, base_url=base_url, creator=creator))
    return out


def render(conn: sqlite3.Connection, **kw: Any) -> str:
    return json.dumps(web_annotations(conn, **kw), ensure_ascii=False, indent=2) + "\n"
