"""The shape of the database, as data: tables, keys, indexes, full-text search, views.

This is the public SQL interface. docs/sql.md is generated from it (`claimkb docs`), and a
test fails when a table or column here is not documented there. ``ensure_db_shape``
applies it to an empty database.
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
        doc=f"The `{vocab}` vocabulary: each term with its rank (1 = best), badge colours "
        f"and definition.",
        column_docs={
            "term": "The label, exactly as used in the data.",
            "rank": "Order of the term, best (1) to worst.",
            "colour": "Badge background colour (#rrggbb).",
            "text_colour": "Badge text colour (#rrggbb).",
            "definition": "What the term means.",
        },
        not_null=frozenset({"rank", "colour", "text_colour", "definition"}),
    )


@dataclass(frozen=True)
class Col:
    """One column: its type, its description, whether it may be null, what it refers to."""

    name: str
    type: type
    doc: str
    null: bool = True
    ref: str | None = None  # "table.column" of a foreign key


def make_table(
    name: str,
    doc: str,
    pk: str | tuple[str, ...],
    cols: list[Col],
    *,
    indexes: tuple[tuple[str, ...], ...] = (),
    fts: tuple[str, ...] = (),
) -> Table:
    pks = {pk} if isinstance(pk, str) else set(pk)
    return Table(
        name=name,
        columns={c.name: c.type for c in cols},
        pk=pk,
        doc=doc,
        column_docs={c.name: c.doc for c in cols},
        foreign_keys=tuple((c.name, *c.ref.split(".")) for c in cols if c.ref),  # type: ignore[misc]
        not_null=frozenset(c.name for c in cols if not c.null and c.name not in pks),
        indexes=indexes,
        fts=fts,
    )


def required(name: str, typ: type, doc: str, ref: str | None = None) -> Col:
    return Col(name, typ, doc, null=False, ref=ref)


_ANCHOR = [
    required("quote", str, "The exact quote from the source text."),
    required(
        "quote_start",
        int,
        "Start of the quote in documents.text, in Unicode code points (TextPositionSelector).",
    ),
    required("quote_end", int, "End of the quote (exclusive), in Unicode code points."),
    Col(
        "quote_prefix",
        str,
        "Up to 32 characters of source text before the quote (TextQuoteSelector prefix).",
    ),
    Col(
        "quote_suffix",
        str,
        "Up to 32 characters of source text after the quote (TextQuoteSelector suffix).",
    ),
]
_WORK_DOCS = {
    "authors": 'JSON array of authors as "Family, Given".',
    "year": "Year of publication.",
    "title": "Title of the work.",
    "venue": "Journal, series, publisher or web site.",
    "volume": "Volume.",
    "issue": "Issue.",
    "pages": "Pages or article number.",
    "publisher": "Publisher (books, reports).",
    "doi": "DOI, without resolver prefix, in lower case.",
    "isbn": "ISBN-13, without hyphens.",
    "arxiv_id": "arXiv identifier.",
    "url": "Stable URL.",
}
_WORK_TYPES = {"year": int}
#: the columns a cited work has, in bibliography and in evidence (the fields of model.Work)
WORK_COLUMNS = tuple(_WORK_DOCS)


def _work(suffix: str) -> list[Col]:
    return [
        Col(k, _WORK_TYPES.get(k, str), f"{v} {suffix}", null=k != "authors")
        for k, v in _WORK_DOCS.items()
    ]


_HTML = "as safe HTML, with its Markdown and its $...$ math rendered (MathML) at build time"
_ASSESSED = [
    Col(
        "adjudication",
        str,
        "When the latest round's two readings disagree: which label was chosen, and why "
        "(Markdown).",
    ),
    Col("adjudication_html", str, f"The adjudication {_HTML}."),
]

_DOCUMENTS = make_table(
    "documents",
    "One row per curated document, with its full source text.",
    "id",
    [
        required("id", str, "Document id (also the name of its data and source files)."),
        required("title", str, "Title of the document."),
        required("authors", str, 'JSON array of authors as "Family, Given"; [] when unknown.'),
        Col("affiliation", str, "Authors' affiliation."),
        Col("year", int, "Year of publication, if verified."),
        Col("venue", str, "Journal, site or publisher, if verified."),
        Col(
            "venue_verified",
            int,
            "1 when venue and year were confirmed in a publisher or catalogue record.",
        ),
        Col("doi", str, "DOI of the document, if verified."),
        Col("arxiv_id", str, "arXiv id of the document, if verified."),
        Col("url", str, "Where the document was found."),
        required("kind", str, "Kind of document (document_kinds.term).", "document_kinds.term"),
        Col("language", str, "Language of the text (BCP 47)."),
        required("sha256", str, "sha256 of the source text, checked at every build."),
        Col("received_from", str, "Where the text came from."),
        Col(
            "metadata_notes",
            str,
            "How the metadata was verified, and what could not be (Markdown).",
        ),
        Col("assessment", str, "Overall assessment of the document's credibility (Markdown)."),
        Col(
            "assessment_status",
            str,
            "Optional overall evidence status (evidence_statuses.term).",
            ref="evidence_statuses.term",
        ),
        Col("char_count", int, "Length of the text in Unicode code points."),
        required("text", str, "The full source text, exactly as received."),
        required("draft", int, "1 for a document drafted by `claimkb new` and not yet assessed."),
        Col("metadata_notes_html", str, f"metadata_notes {_HTML}."),
        Col("assessment_html", str, f"assessment {_HTML}."),
    ],
    fts=("title", "text"),
)

_CLAIMS = make_table(
    "claims",
    "One row per claim: a single checkable proposition, its quote and its evidence status.",
    "id",
    [
        required("id", str, "Claim id, unique across the knowledge base."),
        required(
            "document_id", str, "The document that makes the claim (documents.id).", "documents.id"
        ),
        Col("position", int, "Order of the claim in its document's data file."),
        required(
            "statement", str, "The proposition in plain words (plain text: what search reads)."
        ),
        *_ANCHOR,
        Col("section", str, "Section of the document."),
        Col(
            "claim_type",
            str,
            "Kind of proposition (claim_types.term); null only in an unassessed draft.",
            ref="claim_types.term",
        ),
        required(
            "voice",
            str,
            "Who asserts it: authors, quoted source or site summary (voices.term).",
            "voices.term",
        ),
        required(
            "status", str, "Evidence status (evidence_statuses.term).", "evidence_statuses.term"
        ),
        Col("confidence", float, "Curator's confidence in the status, 0 to 1."),
        Col("rationale", str, "Why this status (Markdown)."),
        *_ASSESSED,
        required("statement_html", str, f"The statement {_HTML}."),
        Col("rationale_html", str, f"The rationale {_HTML}."),
    ],
    # every facet of the claims page has an index; with the id, a filtered page (status=x)
    # reads its first rows in id order straight from the index
    indexes=(("document_id", "position"), ("status", "id"), ("claim_type", "id"), ("voice", "id")),
    fts=("statement", "quote", "rationale"),
)

_CLAIM_TERMS = make_table(
    "claim_terms",
    "The search terms of every assessed claim of a document that is not a draft, for "
    "`claimkb match`: statement and quote normalised by claimkb.match.normalise (LaTeX, "
    "Greek letters, symbols and names of constants, numbers with units in SI base units).",
    "claim_id",
    [
        Col("claim_id", str, "The claim (claims.id).", ref="claims.id"),
        required("document_id", str, "Its document (documents.id).", "documents.id"),
        required(
            "statement_terms",
            str,
            "The statement's terms, space-separated, e.g. `hbar` for \\hbar, ħ and "
            "'reduced Planck constant', `1em9 umetre` for 1 nm and 10^-9 m.",
        ),
        required("quote_terms", str, "The quote's terms, space-separated."),
    ],
    indexes=(("document_id",),),
    fts=("statement_terms", "quote_terms"),
)

_EQUATIONS = make_table(
    "equations",
    "One row per equation, with its LaTeX, glossary, evidence status and check status.",
    "id",
    [
        required("id", str, "Equation id, unique across the knowledge base."),
        required("document_id", str, "The document (documents.id).", "documents.id"),
        Col("position", int, "Order in the document's data file."),
        Col("label", str, "Equation number as printed."),
        Col("latex", str, "The equation as printed, in LaTeX (null when the source lost it)."),
        Col(
            "mathml",
            str,
            "The LaTeX rendered to MathML at build time and sanitised against an "
            "allowlist of elements and attributes (null when there is no LaTeX).",
        ),
        *_ANCHOR,
        Col("section", str, "Section of the document."),
        required(
            "symbols",
            str,
            'JSON array of {"symbol", "meaning", "units", "mathml"}: the symbol as written '
            "(LaTeX) and, when it renders, as sanitised inline MathML.",
        ),
        required(
            "status",
            str,
            "Evidence status of the relation (evidence_statuses.term).",
            "evidence_statuses.term",
        ),
        required(
            "check_status",
            str,
            "Integrity of the equation (check_statuses.term).",
            "check_statuses.term",
        ),
        Col("confidence", float, "Curator's confidence, 0 to 1."),
        Col("rationale", str, "Why this status and check status (Markdown)."),
        Col(
            "reconstruction_latex",
            str,
            "A curator's reconstruction of a lost equation (not the source's text).",
        ),
        Col("reconstruction_source", str, "Where the reconstruction comes from."),
        Col("reconstruction_mathml", str, "The reconstruction rendered to MathML (sanitised)."),
        *_ASSESSED,
        Col("rationale_html", str, f"The rationale {_HTML}."),
    ],
    indexes=(("document_id", "position"), ("status",), ("check_status",)),
    fts=("label", "latex", "quote", "rationale"),
)

_RECORDED = (
    "From the publisher's or catalogue's record when citation_status is verified, "
    "minor errors or citation error; as printed (unconfirmed) otherwise."
)
_BIBLIOGRAPHY = make_table(
    "bibliography",
    "Every work a document cites, quotes or reproduces: the text as printed, the "
    "verified record and the citation's problems.",
    "id",
    [
        required("id", str, "Entry id, unique across the knowledge base."),
        required("document_id", str, "The citing document (documents.id).", "documents.id"),
        Col("position", int, "Order in the document's data file."),
        required("label", str, 'The label the document uses, e.g. "11".'),
        required(
            "as_printed", str, "The entry exactly as printed in the source (its anchored quote)."
        ),
        Col("quote_start", int, "Start of as_printed in documents.text (code points)."),
        Col("quote_end", int, "End of as_printed (exclusive)."),
        Col("quote_prefix", str, "Source text before the entry (TextQuoteSelector prefix)."),
        Col("quote_suffix", str, "Source text after the entry (TextQuoteSelector suffix)."),
        *_work(_RECORDED),
        required(
            "citation_status",
            str,
            "How the printed citation compares with the record (citation_statuses.term).",
            "citation_statuses.term",
        ),
        required(
            "problems", str, "JSON array of problems found in the citation (short sentences)."
        ),
        required("problem_count", int, "Number of problems."),
        required(
            "self_citation", int, "1 when the work shares an author with the citing document."
        ),
        required(
            "status",
            str,
            "Evidence status of the work as used: does it say what it is cited "
            "for? (evidence_statuses.term)",
            "evidence_statuses.term",
        ),
        Col("confidence", float, "Curator's confidence, 0 to 1."),
        Col("rationale", str, "Why this status and citation status (Markdown)."),
        Col("verification", str, "What was looked up to verify the entry and what was found."),
        required(
            "provenance",
            str,
            "How the document uses the work: cited, quoted, or copied "
            "without attribution (a passage taken over with its source hidden or misnamed).",
        ),
        required(
            "work",
            int,
            "0 when the entry names no work (a figure caption, a remark): not exported as a work.",
        ),
        required(
            "tried",
            str,
            "JSON array of what was looked up, in plain words, when the work was "
            "not found or cannot be checked.",
        ),
        Col("rationale_html", str, f"The rationale {_HTML}."),
    ],
    indexes=(("document_id", "position"), ("citation_status",), ("doi",)),
    fts=("as_printed", "title", "authors", "venue"),
)

_EVIDENCE = make_table(
    "evidence",
    "Evidence behind an assessment: an external work (or the document's own "
    "reference), its stance, what it shows and where it says so.",
    "id",
    [
        required("id", str, "Evidence id: <record id>/e<n>."),
        required("document_id", str, "Document of the record (documents.id).", "documents.id"),
        required("about_type", str, "Kind of record: claim, equation or bibliography."),
        required("about_id", str, "Id of the record the evidence is about."),
        Col(
            "claim_id",
            str,
            "about_id when the record is a claim (claims.id), else null.",
            ref="claims.id",
        ),
        Col(
            "equation_id",
            str,
            "about_id when the record is an equation (equations.id), else null.",
            ref="equations.id",
        ),
        Col(
            "bibliography_id",
            str,
            "about_id when the record is a bibliography entry (bibliography.id), else null.",
            ref="bibliography.id",
        ),
        required("stance", str, "supports, contradicts or context (stances.term).", "stances.term"),
        Col(
            "cites_bibliography_id",
            str,
            "When the evidence is one of the document's own "
            "references: that entry (bibliography.id).",
            ref="bibliography.id",
        ),
        *_work("Of the evidence work."),
        required(
            "self_citation", int, "1 when the evidence work is by the document's own author(s)."
        ),
        required("note", str, "What the work shows."),
        Col(
            "locator",
            str,
            "Where the work says it: page, section, equation, figure, or a short "
            "quote of the work.",
        ),
        required("note_html", str, f"The note {_HTML}."),
    ],
    indexes=(
        ("about_id",),
        ("claim_id",),
        ("equation_id",),
        ("bibliography_id",),
        ("doi",),
        ("document_id",),
        ("stance",),
        ("cites_bibliography_id",),  # a reference page: the evidence that cites it
        ("self_citation", "claim_id"),  # the question "supported only by self-citation"
    ),
)

_CLAIM_LINKS = make_table(
    "claim_links",
    "Relations between claims, within and across documents.",
    ("from_claim", "to_claim", "relation"),
    [
        Col("from_claim", str, "The claim that states the relation (claims.id).", ref="claims.id"),
        Col("to_claim", str, "The other claim (claims.id).", ref="claims.id"),
        Col(
            "relation",
            str,
            "contradicts, depends_on, restates or same_as (relations.term).",
            ref="relations.term",
        ),
        Col("note", str, "Why the two are related."),
        required(
            "proposed",
            int,
            "1 for a link the claim matcher proposed and no curator has confirmed yet.",
        ),
    ],
    indexes=(("to_claim",),),
)

_CLAIM_CITATIONS = make_table(
    "claim_citations",
    "Which of its document's bibliography entries a claim cites.",
    ("claim_id", "bibliography_id"),
    [
        Col("claim_id", str, "The citing claim (claims.id).", ref="claims.id"),
        Col("bibliography_id", str, "The cited entry (bibliography.id).", ref="bibliography.id"),
    ],
    indexes=(("bibliography_id",),),
)

_EQUATION_CITATIONS = make_table(
    "equation_citations",
    "Which of its document's bibliography entries an equation cites.",
    ("equation_id", "bibliography_id"),
    [
        Col("equation_id", str, "The citing equation (equations.id).", ref="equations.id"),
        Col("bibliography_id", str, "The cited entry (bibliography.id).", ref="bibliography.id"),
    ],
    indexes=(("bibliography_id",),),
)

_CHECKS = make_table(
    "checks",
    "Findings of the machine checks run at every build.",
    "id",
    [
        required("id", int, "Finding number."),
        Col(
            "document_id",
            str,
            "Document concerned (documents.id), or null for the whole knowledge base.",
            ref="documents.id",
        ),
        required(
            "about_type",
            str,
            "Kind of record: document, claim, equation, bibliography or evidence.",
        ),
        required("about_id", str, "Id of the record concerned."),
        required("rule", str, "Name of the rule that made the finding."),
        required("severity", str, "error, warning or info (severities.term).", "severities.term"),
        required("message", str, "What was found."),
        required(
            "message_html", str, "The message as sanitised HTML, its $...$ formulas as MathML."
        ),
        required(
            "acknowledged",
            int,
            "1 when a curator has acknowledged the finding (it is no longer open).",
        ),
        Col("acknowledgement", str, "The curator's reason, when acknowledged."),
    ],
    indexes=(("about_id",), ("rule",), ("document_id", "severity")),
)

_SOURCE_MARKUP = make_table(
    "source_markup",
    "Spans of a document's text written in LaTeX (formulas between dollar "
    'signs, accents such as \\"o), with the HTML pages show in their place; the text '
    "itself stays exactly as received.",
    ("document_id", "start"),
    [
        Col("document_id", str, "The document (documents.id).", ref="documents.id"),
        Col("start", int, "Start of the span in documents.text (code points)."),
        required("end", int, "End of the span (exclusive)."),
        required("kind", str, "math or accent."),
        required(
            "html", str, "What a page shows instead: MathML (sanitised) or the accented letter."
        ),
    ],
)

_READINGS = make_table(
    "readings",
    "Independent readings of each claim and equation: one row per reading, each by "
    "its own reader who had not seen the other's label; two per round, and the latest "
    "round decides the status.",
    ("record_id", "reader"),
    [
        Col("record_id", str, "The claim or equation read (claims.id or equations.id)."),
        required("record_type", str, "claim or equation."),
        required("document_id", str, "Its document (documents.id).", "documents.id"),
        required(
            "round",
            int,
            "The reading round: 1 = the first two readings, 2 = two new blind readings "
            "under revised rules.",
        ),
        required("position", int, "Order of the reading in its round (1 = first, 2 = second)."),
        Col("reader", str, "Who read it."),
        required(
            "status",
            str,
            "The status this reader gave (evidence_statuses.term).",
            "evidence_statuses.term",
        ),
        required("note", str, "The reader's reason."),
        required("note_html", str, f"The note {_HTML}."),
    ],
    indexes=(("document_id", "round", "position"),),
)

_HISTORY = make_table(
    "assessment_history",
    "Earlier statuses of claims and equations: what each was before a "
    "re-rating, when it changed and why.",
    ("record_id", "seq"),
    [
        Col("record_id", str, "The claim or equation (claims.id or equations.id)."),
        required("record_type", str, "claim or equation."),
        required("document_id", str, "Its document (documents.id).", "documents.id"),
        Col("seq", int, "Order of the change, oldest first (1, 2, ...)."),
        required(
            "status", str, "The earlier status (evidence_statuses.term).", "evidence_statuses.term"
        ),
        required("date", str, "When it was replaced (YYYY-MM-DD)."),
        required("reason", str, "Why it was replaced."),
        required("reason_html", str, f"The reason {_HTML}."),
    ],
    indexes=(("document_id",), ("date",)),
)

_PROCEDURE = make_table(
    "decision_procedure",
    "The questions that decide an evidence status, asked in order: the "
    "first answered yes gives its label (docs/curation.md has worked examples).",
    "step",
    [
        Col("step", int, "Order of the question (0, 1, 2, ...)."),
        required("question", str, "The question."),
        required(
            "label",
            str,
            "The label a yes gives (evidence_statuses.term).",
            "evidence_statuses.term",
        ),
        Col("guidance", str, "How to apply it at its boundaries."),
    ],
)

TABLES: tuple[Table, ...] = (
    *(_vocab_table(t, v) for v, t in VOCAB_TABLES.items()),
    _PROCEDURE,
    _DOCUMENTS,
    _CLAIMS,
    _CLAIM_TERMS,
    _EQUATIONS,
    _BIBLIOGRAPHY,
    _EVIDENCE,
    _CLAIM_LINKS,
    _CLAIM_CITATIONS,
    _EQUATION_CITATIONS,
    _CHECKS,
    _READINGS,
    _HISTORY,
    _SOURCE_MARKUP,
)

#: What each build read, so the next one can tell which documents changed (build/incremental.py)
BUILD_TABLES: tuple[Table, ...] = (
    make_table(
        "build_files",
        "Every data file the last build read, with its size, modification time "
        "and sha256: an incremental build re-reads only the files that differ.",
        "path",
        [
            Col(
                "path",
                str,
                "Path of the file in the data folder (vocabulary.yaml, "
                "documents/<id>.yaml, sources/<id>.txt).",
            ),
            required("size", int, "Size in bytes when it was read."),
            Col(
                "mtime_ns",
                int,
                "Modification time (ns since the epoch) when it was read; null "
                "if the file had just been modified (then it is re-hashed next time).",
            ),
            required("sha256", str, "sha256 of the file's bytes as read."),
            Col(
                "document_id",
                str,
                "The document the file belongs to (documents.id); null for vocabulary.yaml.",
            ),
        ],
    ),
    make_table(
        "table_docs",
        "What every table, view and column of this database holds (the SQL interface's "
        "descriptions, written by the build: the site shows them).",
        ("table_name", "column_name"),
        [
            Col("table_name", str, "A table or view."),
            Col("column_name", str, "One of its columns, or '' for the table itself."),
            required("description", str, "What it holds."),
        ],
    ),
    make_table(
        "build_info",
        "Facts about the build that wrote the database: the code fingerprint (a "
        "full build follows when it changes), time, mode.",
        "key",
        [
            Col("key", str, "Name of the fact (code, built_at, updated_at, mode)."),
            required("value", str, "Its value."),
        ],
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
        doc="Claims with their document's title and the rank of their status, for sorting "
        "and reading.",
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
        doc="Bibliography entries with their document's title and the rank of their "
        "citation status.",
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
    return (
        f'CREATE VIRTUAL TABLE "{fts_table(t)}" USING FTS5 (\n'
        f"    {cols},\n"
        "    tokenize='porter',\n"
        f'    content="{t.name}"\n'
        ")"
    )


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
        f"insert into [{fts}] (rowid, {cols}) select rowid, {cols} from "
        f"[{source}].[{t.name}] order by rowid"
    )
    conn.execute(f"insert into [{fts}] ([{fts}], rank) values ('hashsize', ?)", [FTS_HASHSIZE])


def fts_tables() -> list[Table]:
    return [t for t in TABLES if t.fts]
