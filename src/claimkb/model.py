"""What a document, a claim, an equation, a reference and an evidence item are.

These pydantic models describe one curated file, ``data/documents/<id>.yaml``.
Every model forbids unknown keys and every field carries a description: the
JSON Schema exported from them (``schema/document.schema.json``) is what editors
use to validate the YAML as it is typed.

The controlled vocabularies are spelled out here as ``Literal`` types so the
schema can offer them; ``data/vocabulary.yaml`` carries their definitions, ranks
and colours, and the loader refuses a vocabulary file that disagrees with them.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EvidenceStatus = Literal[
    "established",
    "supported",
    "speculative",
    "unsupported",
    "contradicted",
    "no physical basis",
    "not assessed",
]
CheckStatus = Literal[
    "verified", "consistent", "notation problem", "incorrect", "not recoverable", "not checked"
]
CitationStatus = Literal[
    "verified",
    "minor errors",
    "citation error",
    "incomplete",
    "not found",
    "no such work",
    "unverifiable",
    "not checked",
]
ClaimType = Literal[
    "empirical",
    "theoretical",
    "mathematical",
    "definitional",
    "attribution/historical",
    "technological promise",
    "methodological",
    "forecast",
]
Voice = Literal["authors", "quoted source", "site summary"]
DocumentKind = Literal[
    "peer-reviewed article",
    "preprint",
    "book",
    "unreviewed manuscript",
    "aggregator page",
    "web page",
]
Stance = Literal["supports", "contradicts", "context"]
Relation = Literal["contradicts", "depends_on", "restates", "same_as"]
Severity = Literal["error", "warning", "info"]
Provenance = Literal["cited", "quoted", "copied without attribution"]

#: vocabulary name in data/vocabulary.yaml -> the Literal the models use
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "evidence_status": get_args(EvidenceStatus),
    "check_status": get_args(CheckStatus),
    "citation_status": get_args(CitationStatus),
    "claim_type": get_args(ClaimType),
    "voice": get_args(Voice),
    "document_kind": get_args(DocumentKind),
    "stance": get_args(Stance),
    "relation": get_args(Relation),
    "severity": get_args(Severity),
}

#: evidence statuses that must be backed by at least one evidence item
NEEDS_EVIDENCE = ("established", "supported", "contradicted", "no physical basis")

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=120)]
Text = Annotated[str, Field(min_length=1)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """Base: unknown keys are errors, strings are stripped of nothing."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=False)


class Work(Strict):
    """An external work: a paper, book, web page or data set."""

    title: str | None = Field(None, description="Title of the work as the publisher records it.")
    authors: list[str] = Field(
        default_factory=list,
        description='Authors as "Family, Given" strings, in the order published.',
    )
    year: int | None = Field(None, ge=1500, le=2100, description="Year of publication.")
    venue: str | None = Field(None, description="Journal, book series, publisher or web site.")
    volume: str | None = Field(None, description="Volume of the journal or series.")
    issue: str | None = Field(None, description="Issue number.")
    pages: str | None = Field(None, description="Page range or article number.")
    publisher: str | None = Field(None, description="Publisher (for books and reports).")
    doi: str | None = Field(
        None, description="DOI without the https://doi.org/ prefix, e.g. 10.1038/nphys620."
    )
    isbn: str | None = Field(None, description="ISBN-10 or ISBN-13, hyphens allowed.")
    arxiv_id: str | None = Field(
        None, description="arXiv identifier, e.g. 2101.01234 or quant-ph/0101001."
    )
    url: str | None = Field(
        None, description="Stable URL of the work (used when it has no DOI or ISBN)."
    )

    @field_validator("doi")
    @classmethod
    def _doi_bare(cls, v: str | None) -> str | None:
        if v is not None and re.match(r"(?i)^(https?://|doi:)", v):
            raise ValueError("write the DOI without a resolver prefix, e.g. 10.1038/nphys620")
        return v


class Evidence(Strict):
    """One item of evidence behind an assessment: an external work and what it says."""

    about: Id | None = Field(
        None,
        description=(
            "Id of the claim, equation or bibliography entry this evidence is about. "
            "Omit it when the item is written inside that record's own `evidence` list."
        ),
    )
    stance: Stance = Field(
        description="How the work bears on the record: supports, contradicts or context."
    )
    work: Work | None = Field(None, description="The external work (with DOI, ISBN or stable URL).")
    bibliography: str | None = Field(
        None,
        description=(
            "Label of an entry in this document's own bibliography used as evidence "
            "(its metadata and self-citation flag are taken from that entry)."
        ),
    )
    note: Text = Field(description="What the work shows, in a sentence or two.")
    locator: str | None = Field(
        None,
        description=(
            "Where the work says it: a page, section, chapter, equation or figure, or a short "
            'quote of the work itself, e.g. "§ 39", "Eq. (3.12)", "abstract: \u2018…\u2019".'
        ),
    )
    self_citation: bool = Field(
        False, description="True when the work is by the same author(s) as the document."
    )

    @model_validator(mode="after")
    def _has_source(self) -> Evidence:
        if self.work is None and self.bibliography is None:
            raise ValueError("evidence needs a `work` or a `bibliography` label")
        if self.work is not None and not (
            self.work.doi or self.work.isbn or self.work.url or self.work.arxiv_id
        ):
            raise ValueError("the evidence work needs a doi, isbn, arxiv_id or url")
        return self


class Anchored(Strict):
    """A record that quotes the source text exactly."""

    quote: Text = Field(
        description=(
            "Exact text from the source. Whitespace may differ (hard line breaks), "
            "nothing else may."
        )
    )
    occurrence: int | None = Field(
        None,
        ge=1,
        description=(
            "Which occurrence of the quote is meant (1 = first), required when the quote "
            "occurs more than once."
        ),
    )


class Link(Strict):
    """A relation from this claim to another claim (in any document)."""

    relation: Relation = Field(description="contradicts, depends_on, restates or same_as.")
    to: Id = Field(description="Id of the other claim.")
    note: str | None = Field(None, description="Why the two are related.")
    proposed: bool = Field(
        False,
        description=(
            "True for a link the claim matcher proposed and no curator has confirmed yet: "
            "confirm it by deleting this key, or delete the link."
        ),
    )


class Reading(Strict):
    """One reader's assessment of a record, made independently of the other readings."""

    reader: Text = Field(description="Who read it, e.g. curator or second reader.")
    round: int = Field(
        1,
        ge=1,
        description="The reading round: 1 for the first two readings, 2 for two new blind "
        "readings under revised rules, and so on. The latest round decides the status.",
    )
    status: EvidenceStatus = Field(description="The status this reader gave.")
    note: Text = Field(description="Why, in a sentence or two.")


class PastRating(Strict):
    """A status the record had before, and why it changed."""

    status: EvidenceStatus = Field(description="The earlier status.")
    date: _dt.date = Field(description="When it was replaced (YYYY-MM-DD).")
    reason: Text = Field(description="Why it was replaced, in terms of sources and physics.")


class Assessed(Strict):
    """What an assessed record carries besides its status: the readings and its history."""

    readings: list[Reading] = Field(
        default_factory=list,
        description="Independent readings of the record; two by different readers when assessed.",
    )
    adjudication: str | None = Field(
        None,
        description="When the latest round's readings disagree: which label was chosen and why "
        "(the status).",
    )
    history: list[PastRating] = Field(
        default_factory=list, description="Earlier statuses of the record, oldest first."
    )

    @model_validator(mode="after")
    def _readers_differ(self) -> Assessed:
        readers = [r.reader for r in self.readings]
        if len(set(readers)) != len(readers):
            raise ValueError("each reading needs its own reader")
        latest = self.latest_readings()
        if len(latest) > 2:
            raise ValueError(f"round {latest[0].round} has {len(latest)} readings: two per round")
        if len({r.status for r in latest}) > 1 and not self.adjudication:
            raise ValueError("the readings disagree: say in `adjudication` which label was chosen")
        return self

    def latest_readings(self) -> list[Reading]:
        """The readings of the latest round: the ones the status comes from."""
        last = max((r.round for r in self.readings), default=1)
        return [r for r in self.readings if r.round == last]


class Claim(Anchored, Assessed):
    """One checkable proposition made in the document."""

    id: Id = Field(description="Unique id across the knowledge base, e.g. 000-c012.")
    statement: Text = Field(description="The proposition in plain words, one checkable assertion.")
    section: str | None = Field(None, description="Section of the document the quote is in.")
    claim_type: ClaimType | None = Field(
        None,
        description="Kind of proposition (may be left empty only in a draft that is not assessed).",
    )
    voice: Voice = Field(
        "authors", description="Who asserts it: the authors, a quoted source, or the hosting site."
    )
    status: EvidenceStatus = Field("not assessed", description="Evidence status.")
    confidence: Confidence | None = Field(
        None, description="How sure the curator is of the status, from 0 to 1."
    )
    rationale: str | None = Field(
        None, description="Why this status, in a few sentences naming the physics (Markdown)."
    )
    cites: list[str] = Field(
        default_factory=list,
        description="Labels of this document's bibliography entries the claim cites.",
    )
    evidence: list[Evidence] = Field(
        default_factory=list, description="Evidence behind the assessment."
    )
    links: list[Link] = Field(default_factory=list, description="Relations to other claims.")


class Symbol(Strict):
    """One entry of an equation's glossary."""

    symbol: Text = Field(description="The symbol as written in LaTeX, e.g. a_0.")
    meaning: Text = Field(description="What it stands for.")
    units: str | None = Field(None, description="SI units, e.g. m, or 1 for dimensionless.")


class Reconstruction(Strict):
    """A curator's reconstruction of an equation the source lost or garbled."""

    latex: Text = Field(description="The reconstructed equation in LaTeX.")
    source: Text = Field(
        description="Where the reconstruction comes from (e.g. a textbook, with page)."
    )


SYMBOL_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"


class MachineSymbol(Strict):
    """One symbol of a machine-checkable equation: its meaning, units and value or definition."""

    name: Annotated[str, Field(pattern=SYMBOL_NAME_PATTERN)] = Field(
        description=(
            "Name used in the SymPy expressions, e.g. a_0, lambda_e, hbar (a Python identifier)."
        )
    )
    latex: str | None = Field(
        None, description="The symbol as the document prints it, in LaTeX, e.g. a_0."
    )
    meaning: Text = Field(description="What the symbol stands for, e.g. Bohr radius.")
    units: str = Field(
        "1",
        description=(
            "Units of the symbol as pint parses them, e.g. m, J*s, F/m; "
            '"1" for a dimensionless quantity.'
        ),
    )
    codata: str | None = Field(
        None,
        description=(
            'Key of the CODATA value in scipy.constants.physical_constants, e.g. "Bohr radius" '
            "(the value is used for the numerical check)."
        ),
    )
    value: float | None = Field(
        None,
        description=(
            "A numerical value in `units` (for a number the text states, e.g. 0.1 with units nm)."
        ),
    )
    definition: str | None = Field(
        None,
        description=(
            "Definition in terms of other symbols, as a SymPy expression, e.g. hbar/(m_e*c); "
            "substituted for the symbolic check."
        ),
    )
    min: str | None = Field(
        None,
        description=(
            "For a free variable: lower bound as a SymPy expression in other symbols "
            "(the text's premise)."
        ),
    )
    max: str | None = Field(
        None,
        description=(
            "For a free variable: upper bound as a SymPy expression in other symbols "
            "(the text's premise)."
        ),
    )
    domain: Literal["positive", "real", "complex", "operator"] = Field(
        "positive",
        description=(
            "What kind of quantity: positive (default), real, complex, or operator (non-commuting)."
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> MachineSymbol:
        if self.codata is not None and self.value is not None:
            raise ValueError("give either `codata` or `value`, not both")
        if (self.min is not None or self.max is not None) and (
            self.codata is not None or self.value is not None or self.definition is not None
        ):
            raise ValueError(
                "`min`/`max` are for free variables: drop `codata`, `value` and `definition`"
            )
        return self


class MachineAssertion(Strict):
    """One relation the machine checks: an equation, a step derived from it, or a numeric claim of the text."""  # noqa: E501 -- the JSON schema's description: one line

    relation: Text = Field(
        description=(
            "A relation between SymPy expressions in the declared symbols, "
            "with ==, <, <=, > or >=; "
            'chains are allowed, e.g. "a_0 == lambda_e/alpha" or "a_0/alpha >= L >= a_0".'
        )
    )
    role: Literal["equation", "derivation", "text claim"] = Field(
        "equation",
        description=(
            "equation (the printed equation itself), derivation (a step derived from it) "
            "or text claim (a statement of the text)."
        ),
    )
    expect: Literal["holds", "fails"] = Field(
        "holds", description="What the curator expects the machine to find: holds or fails."
    )
    about: Id | None = Field(
        None, description="Id of a claim this relation checks (the finding is shown on it too)."
    )
    quote: str | None = Field(None, description="The words of the text this relation checks.")
    display_units: str | None = Field(
        None, description="Units for the numbers in the finding's message, e.g. nm."
    )
    tolerance: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Relative tolerance of the numerical comparison (default 1e-9).",
    )
    note: str | None = Field(None, description="Why this relation, or what a failure means.")


class MachineCheck(Strict):
    """A machine-checkable form of an equation: symbols with units and values, and the relations to verify."""  # noqa: E501 -- the JSON schema's description: one line

    system: Literal["SI"] = Field(
        "SI", description="Unit system of the machine form (SI; CODATA values are SI)."
    )
    note: str | None = Field(
        None,
        description=(
            "How the machine form differs from the printed one, "
            "e.g. Gaussian e^2 written as e^2/(4*pi*epsilon_0) in SI."
        ),
    )
    symbols: list[MachineSymbol] = Field(description="Every symbol the relations use.")
    relations: list[MachineAssertion] = Field(min_length=1, description="The relations to check.")


class Equation(Anchored, Assessed):
    """A numbered (or otherwise identifiable) equation of the document."""

    id: Id = Field(description="Unique id across the knowledge base, e.g. 000-eq01.")
    label: str | None = Field(None, description='The equation number as printed, e.g. "1".')
    latex: str | None = Field(
        None,
        description="The equation as printed, in correct LaTeX (omit when the source lost it).",
    )
    section: str | None = Field(None, description="Section of the document the equation is in.")
    symbols: list[Symbol] = Field(default_factory=list, description="Glossary of the symbols.")
    status: EvidenceStatus = Field(
        "not assessed", description="Evidence status of the relation it states."
    )
    check_status: CheckStatus = Field(
        "not checked", description="Integrity of the equation as printed."
    )
    confidence: Confidence | None = Field(None, description="How sure the curator is, from 0 to 1.")
    rationale: str | None = Field(None, description="Why this status and check status (Markdown).")
    reconstruction: Reconstruction | None = Field(
        None,
        description=(
            "A reconstruction of a lost or garbled equation, marked as such, with its source."
        ),
    )
    machine_check: MachineCheck | None = Field(
        None,
        description=(
            "Machine-checkable form (SymPy expressions, units, CODATA values); "
            "check_status `verified` requires it to pass."
        ),
    )
    cites: list[str] = Field(
        default_factory=list, description="Bibliography labels cited for the equation."
    )
    evidence: list[Evidence] = Field(
        default_factory=list, description="Evidence behind the assessment."
    )


#: citation statuses that must say what was tried
UNFOUND = ("not found", "no such work", "unverifiable")


class Reference(Anchored, Work):
    """One entry of the document's bibliography (or a work it cites, quotes or reproduces)."""

    id: Id = Field(description="Unique id across the knowledge base, e.g. 000-ref01.")
    label: Text = Field(description='The label the document uses, e.g. "11" or "Ref. 2 (p. 6)".')
    citation_status: CitationStatus = Field(
        "not checked", description="How the printed citation compares with the record."
    )
    problems: list[str] = Field(
        default_factory=list, description="Problems found in the citation, short sentences."
    )
    self_citation: bool = Field(
        False, description="True when the cited work shares an author with the document."
    )
    status: EvidenceStatus = Field(
        "not assessed",
        description="Evidence status of the work as used here (does it say what it is cited for?).",
    )
    confidence: Confidence | None = Field(None, description="How sure the curator is, from 0 to 1.")
    rationale: str | None = Field(
        None, description="Why this status and citation status (Markdown)."
    )
    provenance: Provenance = Field(
        "cited",
        description=(
            "How the document uses the work: cited, quoted (with attribution), or copied "
            "without attribution (a passage the document takes over and hides or misnames "
            "the source of)."
        ),
    )
    work: bool = Field(
        True,
        description=(
            "False when the entry names no work at all (a figure caption or a remark the "
            "document numbers as a reference); such entries are not exported as works."
        ),
    )
    tried: list[str] = Field(
        default_factory=list,
        description=(
            "What was looked up, in plain words: the catalogues, the identifiers, the "
            "journal's contents for the year. Required when the work was not found."
        ),
    )
    verification: str | None = Field(
        None, description="What was looked up to verify the entry, and what was found or not found."
    )
    evidence: list[Evidence] = Field(
        default_factory=list, description="Evidence behind the assessment."
    )

    @model_validator(mode="after")
    def _says_what_was_tried(self) -> Reference:
        if self.citation_status in UNFOUND and not self.tried:
            raise ValueError(
                f"citation_status `{self.citation_status}` needs `tried`: in plain words, what "
                "was looked up (catalogues, identifiers, the journal's contents) and what it showed"
            )
        return self


class Acknowledged(Strict):
    """A machine-check finding a curator has looked at and accepts, with the reason."""

    rule: Text = Field(description="The rule of the finding, e.g. self-citation-only.")
    about: Id = Field(description="Id of the record the finding is about.")
    reason: Text = Field(description="Why the finding needs no change to the data.")


class Assessment(Strict):
    """The curator's overall judgement of the document."""

    summary: Text = Field(description="A short summary of the document's credibility.")
    status: EvidenceStatus | None = Field(
        None, description="Optional overall evidence status for the document as a whole."
    )


class Document(Strict):
    """One curated document: metadata, claims, equations, bibliography, evidence."""

    id: Id = Field(
        description=(
            "Document id; the file names are data/documents/<id>.yaml and data/sources/<id>.txt."
        )
    )
    title: Text = Field(description="Title of the document.")
    authors: list[str] = Field(
        default_factory=list,
        description='Authors as "Family, Given"; empty when unknown (say so in metadata_notes).',
    )
    affiliation: str | None = Field(None, description="Authors' affiliation as given or verified.")
    year: int | None = Field(
        None, ge=1500, le=2100, description="Year of publication, if verified."
    )
    venue: str | None = Field(None, description="Journal, site or publisher, if verified.")
    venue_verified: bool = Field(
        False,
        description="True when venue and year were confirmed in a publisher or catalogue record.",
    )
    doi: str | None = Field(None, description="DOI of the document itself, if verified.")
    arxiv_id: str | None = Field(None, description="arXiv id of the document itself, if verified.")
    url: str | None = Field(None, description="Where the document was found.")
    kind: DocumentKind = Field(
        description=(
            "peer-reviewed article, preprint, book, unreviewed manuscript, "
            "aggregator page or web page."
        )
    )
    language: str = Field("en", description="Language of the source text (BCP 47).")
    draft: bool = Field(
        False,
        description="True for a document `claimkb new` drafted and no curator has assessed yet.",
    )
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="sha256 of data/sources/<id>.txt, checked at every build."
    )
    received_from: str | None = Field(
        None, description="Where the source text came from (file name or URL)."
    )
    metadata_notes: str | None = Field(
        None, description="How the metadata was verified, and what could not be (Markdown)."
    )
    assessment: Assessment | None = Field(None, description="Overall assessment of the document.")
    claims: list[Claim] = Field(default_factory=list, description="The document's claims.")
    equations: list[Equation] = Field(default_factory=list, description="The document's equations.")
    bibliography: list[Reference] = Field(
        default_factory=list, description="Works the document cites, quotes or reproduces."
    )
    evidence: list[Evidence] = Field(
        default_factory=list,
        description="Evidence items written apart from their record; each names it in `about`.",
    )
    acknowledged: list[Acknowledged] = Field(
        default_factory=list,
        description="Machine-check warnings a curator has looked at and accepts, with reasons.",
    )


class VocabularyTerm(Strict):
    """One term of a controlled vocabulary."""

    term: Text = Field(description="The label, exactly as used in the data.")
    rank: int = Field(ge=1, description="Order, best (1) to worst.")
    colour: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = Field(
        description="Badge background colour."
    )
    text_colour: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = Field(
        description="Badge text colour."
    )
    definition: Text = Field(description="What the term means.")


class DecisionStep(Strict):
    """One question of the procedure that decides an evidence status."""

    step: int = Field(ge=0, description="Order of the question (0, 1, 2, ...).")
    question: Text = Field(description="The question, answered yes or no.")
    label: EvidenceStatus = Field(description="The label a yes gives.")
    guidance: str | None = Field(None, description="How to apply it at its boundaries.")


class Vocabulary(Strict):
    """data/vocabulary.yaml: every controlled vocabulary, and how to decide an evidence status."""

    evidence_status_procedure: list[DecisionStep] = Field(
        description="Questions asked in order; the first answered yes gives the evidence status."
    )

    evidence_status: list[VocabularyTerm] = Field(
        description="Evidence status of claims, equations, references."
    )
    check_status: list[VocabularyTerm] = Field(description="Integrity of equations.")
    citation_status: list[VocabularyTerm] = Field(description="Integrity of citations.")
    claim_type: list[VocabularyTerm] = Field(description="Kinds of claim.")
    voice: list[VocabularyTerm] = Field(description="Who asserts a claim.")
    document_kind: list[VocabularyTerm] = Field(description="Kinds of document.")
    stance: list[VocabularyTerm] = Field(description="How evidence bears on a record.")
    relation: list[VocabularyTerm] = Field(description="Relations between claims.")
    severity: list[VocabularyTerm] = Field(description="Severity of machine check findings.")


def document_schema() -> dict:
    """The JSON Schema of a document file, as editors use it (schema/document.schema.json)."""
    schema = Document.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def document_schema_text() -> str:
    import json

    return json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"
