"""The shape of the database, as data: tables, keys, indexes, full-text search, views.

This is the public SQL interface. README.md documents every table and column,
and a test fails when a table or column here is not documented there.
``ensure_db_shape`` applies it to an empty database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import sqlite_utils

#: vocabulary name in data/vocabulary.yaml -> table holding its terms
VOCAB_TABLES = {
    "evidence_status": "evidence_statuses",
    "check_status": "check_statuses",
    "citation_status": "citation_statuses",
    "claim_type": "claim_types",
    "voice": "voices",
    "document_kind": "document_kinds",
    "stance": "stances",
    "relation": "relations",
    "severity": "severities",
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, type]  # column -> python type (str, int, float)
    pk: str | tuple[str, ...]
    doc: str  # one-line description (README and Datasette metadata)
    column_docs: dict[str, str]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, other table, other column)
    not_null: frozenset[str] = frozenset()
    indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()  # columns indexed by FTS5 (porter)


def _vocab_table(name: str, vocab: str) -> Table:
    return Table(
        name=name,
        columns={"term": str, "rank": int, "colour": str, "text_colour": str, "definition": str},
        pk="term",
        doc=f"The `{vocab}` vocabulary: each term with its rank (1 = best), badge colours and definition.",
        column_docs={
            "term": "The label, exactly as used in the data.",
            "rank": "Order of the term, best (1) to worst.",
            "colour": "Badge background colour (#rrggbb).",
            "text_colour": "Badge text colour (#rrggbb).",
            "definition": "What the term means.",
        },
        not_null=frozenset({"rank", "colour", "text_colour", "definition"}),
    )


_ANCHOR_DOCS = {
    "quote": "The exact quote from the source text.",
    "quote_start": "Start of the quote in documents.text, in Unicode code points (TextPositionSelector).",
    "quote_end": "End of the quote (exclusive), in Unicode code points.",
    "quote_prefix": "Up to 32 characters of source text before the quote (TextQuoteSelector prefix).",
    "quote_suffix": "Up to 32 characters of source text after the quote (TextQuoteSelector suffix).",
}
_ANCHOR_COLS: dict[str, type] = {
    "quote": str,
    "quote_start": int,
    "quote_end": int,
    "quote_prefix": str,
    "quote_suffix": str,
}

_WORK_COLS: dict[str, type] = {
    "authors": str,
    "year": int,
    "title": str,
    "venue": str,
    "volume": str,
    "issue": str,
    "pages": str,
    "publisher": str,
    "doi": str,
    "isbn": str,
    "arxiv_id": str,
    "url": str,
}
_WORK_DOCS = {
    "authors": 'JSON array of authors as "Family, Given".',
    "year": "Year of publication.",
    "title": "Title of the work.",
    "venue": "Journal, series, publisher or web site.",
    "volume": "Volume.",
    "issue": "Issue.",
    "pages": "Pages or article number.",
    "publisher": "Publisher (books, reports).",
    "doi": "DOI, without resolver prefix.",
    "isbn": "ISBN-10 or ISBN-13.",
    "arxiv_id": "arXiv identifier.",
    "url": "Stable URL.",
}

TABLES: tuple[Table, ...] = (
    *(_vocab_table(t, v) for v, t in VOCAB_TABLES.items()),
    Table(
        name="documents",
        columns={
            "id": str,
            "title": str,
            "authors": str,
            "affiliation": str,
            "year": int,
            "venue": str,
            "venue_verified": int,
            "doi": str,
            "arxiv_id": str,
            "url": str,
            "kind": str,
            "language": str,
            "sha256": str,
            "received_from": str,
            "metadata_notes": str,
            "assessment": str,
            "assessment_status": str,
            "char_count": int,
            "text": str,
        },
        pk="id",
        doc="One row per curated document, with its full source text.",
        column_docs={
            "id": "Document id (also the name of its data and source files).",
            "title": "Title of the document.",
            "authors": 'JSON array of authors as "Family, Given"; [] when unknown.',
            "affiliation": "Authors' affiliation.",
            "year": "Year of publication, if verified.",
            "venue": "Journal, site or publisher, if verified.",
            "venue_verified": "1 when venue and year were confirmed in a publisher or catalogue record.",
            "doi": "DOI of the document, if verified.",
            "arxiv_id": "arXiv id of the document, if verified.",
            "url": "Where the document was found.",
            "kind": "Kind of document (document_kinds.term).",
            "language": "Language of the text (BCP 47).",
            "sha256": "sha256 of the source text, checked at every build.",
            "received_from": "Where the text came from.",
            "metadata_notes": "How the metadata was verified, and what could not be (Markdown).",
            "assessment": "Overall assessment of the document's credibility (Markdown).",
            "assessment_status": "Optional overall evidence status (evidence_statuses.term).",
            "char_count": "Length of the text in Unicode code points.",
            "text": "The full source text, exactly as received.",
        },
        foreign_keys=(
            ("kind", "document_kinds", "term"),
            ("assessment_status", "evidence_statuses", "term"),
        ),
        not_null=frozenset({"title", "kind", "sha256", "text", "authors"}),
        fts=("title", "text"),
    ),
    Table(
        name="claims",
        columns={
            "id": str,
            "document_id": str,
            "position": int,
            "statement": str,
            **_ANCHOR_COLS,
            "section": str,
            "claim_type": str,
            "voice": str,
            "status": str,
            "confidence": float,
            "rationale": str,
        },
        pk="id",
        doc="One row per claim: a single checkable proposition, its quote and its evidence status.",
        column_docs={
            "id": "Claim id, unique across the knowledge base.",
            "document_id": "The document that makes the claim (documents.id).",
            "position": "Order of the claim in its document's data file.",
            "statement": "The proposition in plain words.",
            **_ANCHOR_DOCS,
            "section": "Section of the document.",
            "claim_type": "Kind of proposition (claim_types.term); null only in an unassessed draft.",
            "voice": "Who asserts it: authors, quoted source or site summary (voices.term).",
            "status": "Evidence status (evidence_statuses.term).",
            "confidence": "Curator's confidence in the status, 0 to 1.",
            "rationale": "Why this status (Markdown).",
        },
        foreign_keys=(
            ("document_id", "documents", "id"),
            ("claim_type", "claim_types", "term"),
            ("voice", "voices", "term"),
            ("status", "evidence_statuses", "term"),
        ),
        not_null=frozenset(
            {"document_id", "statement", "quote", "quote_start", "quote_end", "voice", "status"}
        ),
        # every facet of the claims page has an index; with the id, a filtered page (status=x)
        # reads its first rows in id order straight from the index
        indexes=(
            ("document_id", "position"),
            ("status", "id"),
            ("claim_type", "id"),
            ("voice", "id"),
        ),
        fts=("statement", "quote", "rationale"),
    ),
    Table(
        name="equations",
        columns={
            "id": str,
            "document_id": str,
            "position": int,
            "label": str,
            "latex": str,
            "mathml": str,
            **_ANCHOR_COLS,
            "section": str,
            "symbols": str,
            "status": str,
            "check_status": str,
            "confidence": float,
            "rationale": str,
            "reconstruction_latex": str,
            "reconstruction_source": str,
            "reconstruction_mathml": str,
        },
        pk="id",
        doc="One row per equation, with its LaTeX, glossary, evidence status and check status.",
        column_docs={
            "id": "Equation id, unique across the knowledge base.",
            "document_id": "The document (documents.id).",
            "position": "Order in the document's data file.",
            "label": "Equation number as printed.",
            "latex": "The equation as printed, in LaTeX (null when the source lost it).",
            "mathml": "The LaTeX rendered to MathML at build time (null when there is no LaTeX).",
            **_ANCHOR_DOCS,
            "section": "Section of the document.",
            "symbols": 'JSON array of {"symbol", "meaning", "units"}.',
            "status": "Evidence status of the relation (evidence_statuses.term).",
            "check_status": "Integrity of the equation (check_statuses.term).",
            "confidence": "Curator's confidence, 0 to 1.",
            "rationale": "Why this status and check status (Markdown).",
            "reconstruction_latex": "A curator's reconstruction of a lost equation (not the source's text).",
            "reconstruction_source": "Where the reconstruction comes from.",
            "reconstruction_mathml": "The reconstruction rendered to MathML.",
        },
        foreign_keys=(
            ("document_id", "documents", "id"),
            ("status", "evidence_statuses", "term"),
            ("check_status", "check_statuses", "term"),
        ),
        not_null=frozenset(
            {
                "document_id",
                "quote",
                "quote_start",
                "quote_end",
                "status",
                "check_status",
                "symbols",
            }
        ),
        indexes=(("document_id", "position"), ("status",), ("check_status",)),
        fts=("label", "latex", "quote", "rationale"),
    ),
    Table(
        name="bibliography",
        columns={
            "id": str,
            "document_id": str,
            "position": int,
            "label": str,
            "as_printed": str,
            "quote_start": int,
            "quote_end": int,
            "quote_prefix": str,
            "quote_suffix": str,
            **_WORK_COLS,
            "citation_status": str,
            "problems": str,
            "problem_count": int,
            "self_citation": int,
            "status": str,
            "confidence": float,
            "rationale": str,
            "verification": str,
        },
        pk="id",
        doc="Every work a document cites, quotes or reproduces: the text as printed, the verified record and the citation's problems.",
        column_docs={
            "id": "Entry id, unique across the knowledge base.",
            "document_id": "The citing document (documents.id).",
            "position": "Order in the document's data file.",
            "label": 'The label the document uses, e.g. "11".',
            "as_printed": "The entry exactly as printed in the source (its anchored quote).",
            "quote_start": "Start of as_printed in documents.text (code points).",
            "quote_end": "End of as_printed (exclusive).",
            "quote_prefix": "Source text before the entry (TextQuoteSelector prefix).",
            "quote_suffix": "Source text after the entry (TextQuoteSelector suffix).",
            **{
                k: f"{v} From the publisher's or catalogue's record when citation_status is verified, minor errors or citation error; as printed (unconfirmed) when it is unverifiable or not checked."
                for k, v in _WORK_DOCS.items()
            },
            "citation_status": "How the printed citation compares with the record (citation_statuses.term).",
            "problems": "JSON array of problems found in the citation (short sentences).",
            "problem_count": "Number of problems.",
            "self_citation": "1 when the work shares an author with the citing document.",
            "status": "Evidence status of the work as used: does it say what it is cited for? (evidence_statuses.term)",
            "confidence": "Curator's confidence, 0 to 1.",
            "rationale": "Why this status and citation status (Markdown).",
            "verification": "What was looked up to verify the entry and what was found.",
        },
        foreign_keys=(
            ("document_id", "documents", "id"),
            ("citation_status", "citation_statuses", "term"),
            ("status", "evidence_statuses", "term"),
        ),
        not_null=frozenset(
            {
                "document_id",
                "label",
                "as_printed",
                "citation_status",
                "problems",
                "problem_count",
                "self_citation",
                "status",
                "authors",
            }
        ),
        indexes=(("document_id", "position"), ("citation_status",), ("doi",)),
        fts=("as_printed", "title", "authors", "venue"),
    ),
    Table(
        name="evidence",
        columns={
            "id": str,
            "document_id": str,
            "about_type": str,
            "about_id": str,
            "claim_id": str,
            "equation_id": str,
            "bibliography_id": str,
            "stance": str,
            "cites_bibliography_id": str,
            **_WORK_COLS,
            "self_citation": int,
            "note": str,
        },
        pk="id",
        doc="Evidence behind an assessment: an external work (or the document's own reference), its stance and a note.",
        column_docs={
            "id": "Evidence id: <record id>/e<n>.",
            "document_id": "Document of the record (documents.id).",
            "about_type": "Kind of record: claim, equation or bibliography.",
            "about_id": "Id of the record the evidence is about.",
            "claim_id": "about_id when the record is a claim (claims.id), else null.",
            "equation_id": "about_id when the record is an equation (equations.id), else null.",
            "bibliography_id": "about_id when the record is a bibliography entry (bibliography.id), else null.",
            "stance": "supports, contradicts or context (stances.term).",
            "cites_bibliography_id": "When the evidence is one of the document's own references: that entry (bibliography.id).",
            **{k: f"{v} Of the evidence work." for k, v in _WORK_DOCS.items()},
            "self_citation": "1 when the evidence work is by the document's own author(s).",
            "note": "What the work shows.",
        },
        foreign_keys=(
            ("document_id", "documents", "id"),
            ("claim_id", "claims", "id"),
            ("equation_id", "equations", "id"),
            ("bibliography_id", "bibliography", "id"),
            ("cites_bibliography_id", "bibliography", "id"),
            ("stance", "stances", "term"),
        ),
        not_null=frozenset(
            {"document_id", "about_type", "about_id", "stance", "note", "self_citation", "authors"}
        ),
        indexes=(
            ("about_id",),
            ("claim_id",),
            ("equation_id",),
            ("bibliography_id",),
            ("doi",),
            ("document_id",),
            ("stance",),
        ),
    ),
    Table(
        name="claim_links",
        columns={"from_claim": str, "to_claim": str, "relation": str, "note": str},
        pk=("from_claim", "to_claim", "relation"),
        doc="Relations between claims, within and across documents.",
        column_docs={
            "from_claim": "The claim that states the relation (claims.id).",
            "to_claim": "The other claim (claims.id).",
            "relation": "contradicts, depends_on, restates or same_as (relations.term).",
            "note": "Why the two are related.",
        },
        foreign_keys=(
            ("from_claim", "claims", "id"),
            ("to_claim", "claims", "id"),
            ("relation", "relations", "term"),
        ),
        indexes=(("to_claim",),),
    ),
    Table(
        name="claim_citations",
        columns={"claim_id": str, "bibliography_id": str},
        pk=("claim_id", "bibliography_id"),
        doc="Which of its document's bibliography entries a claim cites.",
        column_docs={
            "claim_id": "The citing claim (claims.id).",
            "bibliography_id": "The cited entry (bibliography.id).",
        },
        foreign_keys=(("claim_id", "claims", "id"), ("bibliography_id", "bibliography", "id")),
        indexes=(("bibliography_id",),),
    ),
    Table(
        name="equation_citations",
        columns={"equation_id": str, "bibliography_id": str},
        pk=("equation_id", "bibliography_id"),
        doc="Which of its document's bibliography entries an equation cites.",
        column_docs={
            "equation_id": "The citing equation (equations.id).",
            "bibliography_id": "The cited entry (bibliography.id).",
        },
        foreign_keys=(
            ("equation_id", "equations", "id"),
            ("bibliography_id", "bibliography", "id"),
        ),
        indexes=(("bibliography_id",),),
    ),
    Table(
        name="checks",
        columns={
            "id": int,
            "document_id": str,
            "about_type": str,
            "about_id": str,
            "rule": str,
            "severity": str,
            "message": str,
        },
        pk="id",
        doc="Findings of the machine checks run at every build.",
        column_docs={
            "id": "Finding number.",
            "document_id": "Document concerned (documents.id), or null for the whole knowledge base.",
            "about_type": "Kind of record: document, claim, equation, bibliography or evidence.",
            "about_id": "Id of the record concerned.",
            "rule": "Name of the rule that made the finding.",
            "severity": "error, warning or info (severities.term).",
            "message": "What was found.",
        },
        foreign_keys=(("document_id", "documents", "id"), ("severity", "severities", "term")),
        not_null=frozenset({"about_type", "about_id", "rule", "severity", "message"}),
        indexes=(("about_id",), ("rule",)),
    ),
)

#: What each build read, so the next one can tell which documents changed (see update.py).
BUILD_TABLES: tuple[Table, ...] = (
    Table(
        name="build_files",
        columns={"path": str, "size": int, "mtime_ns": int, "sha256": str, "document_id": str},
        pk="path",
        doc="Every data file the last build read, with its size, modification time and sha256: an incremental build re-reads only the files that differ.",
        column_docs={
            "path": "Path of the file in the data folder (vocabulary.yaml, documents/<id>.yaml, sources/<id>.txt).",
            "size": "Size in bytes when it was read.",
            "mtime_ns": "Modification time (ns since the epoch) when it was read; null if the file had just been modified (then it is re-hashed next time).",
            "sha256": "sha256 of the text as read (UTF-8).",
            "document_id": "The document the file belongs to (documents.id); null for vocabulary.yaml.",
        },
        not_null=frozenset({"size", "sha256"}),
    ),
    Table(
        name="build_info",
        columns={"key": str, "value": str},
        pk="key",
        doc="Facts about the build that wrote the database: the code fingerprint (a full build follows when it changes), time, mode.",
        column_docs={
            "key": "Name of the fact (code, built_at, updated_at, mode).",
            "value": "Its value.",
        },
        not_null=frozenset({"value"}),
    ),
)

TABLES = TABLES + BUILD_TABLES

TABLES_BY_NAME = {t.name: t for t in TABLES}


@dataclass(frozen=True)
class View:
    name: str
    sql: str
    doc: str
    column_docs: dict[str, str] = field(default_factory=dict)


VIEWS: tuple[View, ...] = (
    View(
        name="claims_view",
        doc="Claims with their document's title and the rank of their status, for sorting and reading.",
        sql="""
select
  claims.id, claims.document_id, documents.title as document_title,
  claims.statement, claims.status, evidence_statuses.rank as status_rank,
  claims.claim_type, claims.voice, claims.confidence, claims.section,
  claims.quote, claims.quote_start, claims.quote_end, claims.rationale,
  (select count(*) from evidence where evidence.claim_id = claims.id) as evidence_count
from claims
join documents on documents.id = claims.document_id
join evidence_statuses on evidence_statuses.term = claims.status
""",
        column_docs={
            "document_title": "Title of the claim's document.",
            "status_rank": "Rank of the status (1 = established ... 7 = not assessed).",
            "evidence_count": "Number of evidence items about the claim.",
        },
    ),
    View(
        name="equations_view",
        doc="Equations with their document's title and the ranks of their statuses.",
        sql="""
select
  equations.id, equations.document_id, documents.title as document_title, equations.label,
  equations.latex, equations.mathml, equations.status, evidence_statuses.rank as status_rank,
  equations.check_status, check_statuses.rank as check_rank, equations.rationale
from equations
join documents on documents.id = equations.document_id
join evidence_statuses on evidence_statuses.term = equations.status
join check_statuses on check_statuses.term = equations.check_status
""",
        column_docs={
            "document_title": "Title of the equation's document.",
            "status_rank": "Rank of the evidence status.",
            "check_rank": "Rank of the check status (1 = verified).",
        },
    ),
    View(
        name="bibliography_view",
        doc="Bibliography entries with their document's title and the rank of their citation status.",
        sql="""
select
  bibliography.id, bibliography.document_id, documents.title as document_title, bibliography.label,
  bibliography.as_printed, bibliography.title, bibliography.year, bibliography.doi,
  bibliography.citation_status, citation_statuses.rank as citation_rank,
  bibliography.problem_count, bibliography.problems, bibliography.self_citation, bibliography.status
from bibliography
join documents on documents.id = bibliography.document_id
join citation_statuses on citation_statuses.term = bibliography.citation_status
""",
        column_docs={
            "document_title": "Title of the citing document.",
            "citation_rank": "Rank of the citation status (1 = verified).",
        },
    ),
    View(
        name="vocabulary",
        doc="Every controlled vocabulary in one list: vocabulary, term, rank, colours, definition.",
        sql="\nunion all\n".join(
            f"select '{v}' as vocabulary, term, rank, colour, text_colour, definition from {t}"
            for v, t in VOCAB_TABLES.items()
        ),
        column_docs={"vocabulary": "Name of the vocabulary (as in data/vocabulary.yaml)."},
    ),
)


def fts_table(table: Table) -> str:
    return f"{table.name}_fts"


def ensure_db_shape(db: sqlite_utils.Database, *, indexes: bool = True) -> None:
    """Create every table, index and view that is missing. Idempotent.

    indexes=False leaves the secondary indexes out: a bulk load fills the tables
    first and then calls this again, since building an index once from sorted
    rows is faster than maintaining it through every insert."""
    existing = set(db.table_names())
    for t in TABLES:
        if t.name not in existing:
            db[t.name].create(
                t.columns,
                pk=t.pk,
                foreign_keys=list(t.foreign_keys),
                not_null=set(t.not_null),
            )
    for t in TABLES if indexes else ():
        for cols in t.indexes:
            db[t.name].create_index(list(cols), if_not_exists=True)
    existing_views = set(db.view_names())
    for v in VIEWS:
        if v.name not in existing_views:
            db.create_view(v.name, v.sql.strip())


#: FTS5 keeps this much pending index data in memory before it writes a segment (its
#: default is 1 MiB): fewer, larger segments need fewer merges. A bulk build of a million
#: claims indexes them in 6.2 s instead of 9.5 s (same machine, same run); afterwards the
#: option is set back to the default, so later updates hold no more than before.
BULK_FTS_HASHSIZE = 64 * 1024 * 1024
FTS_HASHSIZE = 1024 * 1024


def fts_create_sql(t: Table) -> str:
    """The CREATE VIRTUAL TABLE of t's full-text index: what sqlite-utils' enable_fts
    writes, to the byte (so Datasette finds it)."""
    cols = ", ".join(f'"{c}"' for c in t.fts)
    return f'CREATE VIRTUAL TABLE "{fts_table(t)}" USING FTS5 (\n    {cols},\n    tokenize=\'porter\',\n    content="{t.name}"\n)'


#: the tables in which FTS5 keeps an external-content index (the virtual table's "shadow tables")
FTS_SHADOW_TABLES = ("data", "idx", "docsize", "config")


def fill_fts(conn: sqlite3.Connection, t: Table, source: str = "main") -> None:
    """Create t's full-text index and index every row of `source`.t in it, in rowid order,
    with the larger pending-data budget (BULK_FTS_HASHSIZE) and then the default again.

    Rows inserted directly into an external-content index are indexed exactly as FTS5's
    own 'rebuild' indexes the content table (tests/test_build.py compares the shadow tables),
    and the source may be another attached database (side.SideBuild)."""
    fts = fts_table(t)
    cols = ", ".join(f"[{c}]" for c in t.fts)
    conn.execute(fts_create_sql(t))
    conn.execute(f"insert into [{fts}] ([{fts}], rank) values ('hashsize', ?)", [BULK_FTS_HASHSIZE])
    conn.execute(
        f"insert into [{fts}] (rowid, {cols}) select rowid, {cols} from [{source}].[{t.name}] order by rowid"
    )
    conn.execute(f"insert into [{fts}] ([{fts}], rank) values ('hashsize', ?)", [FTS_HASHSIZE])


def fts_tables() -> list[Table]:
    return [t for t in TABLES if t.fts]
