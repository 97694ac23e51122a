"""Files -> models. Every problem is reported as file:line with what to do.

``parse_document(path, sources, root)`` reads one ``documents/<id>.yaml`` and its
``sources/<id>.txt``: it validates the YAML with the pydantic models, checks the
source's sha256, anchors every quote, renders the MathML and resolves what the
document says about itself (cited labels, evidence about its own records). It reads
only its two files; what spans documents is the judge's (``claimkb.judge``).
``load_vocabulary`` reads ``vocabulary.yaml``. Both return (result or None, problems).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import os
import stat
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..model import VOCABULARIES, Document, Evidence, Vocabulary
from ..problems import Problem, display_path
from .anchor import Anchor, AnchorError, SourceText
from .mathml import MathError, to_mathml
from .richtext import raw_latex, render, source_markup
from .yamlfile import MAX_BYTES, YamlFile, YamlSyntaxError

RECORD_KINDS = ("claims", "equations", "bibliography")
#: singular names used in the database (`about_type`) and in messages
SINGULAR = {"claims": "claim", "equations": "equation", "bibliography": "bibliography"}
#: the largest source text read (a longer one is refused, naming the limit)
MAX_SOURCE_BYTES = 16 * 1024 * 1024


@dataclass
class LoadedDocument:
    """A validated document with its source text and the anchor of every quote."""

    doc: Document
    path: Path
    source_path: Path
    text: str
    anchors: dict[str, Anchor] = field(default_factory=dict)  # record id -> anchor
    #: equation id (or id + "/reconstruction") -> MathML
    mathml: dict[str, str] = field(default_factory=dict)
    #: (kind, about id, item): every evidence item, resolved to its record
    evidence: list[tuple[str, str, Evidence]] = field(default_factory=list)
    #: top-level evidence items about records outside the document: (index, about)
    foreign_evidence: list[tuple[int, str]] = field(default_factory=list)
    #: rendered text: "<record id>/statement", "<record id>/rationale", "evidence/<n>" (the
    #: n-th item of `evidence`), "document/assessment", "document/metadata_notes" -> HTML
    html: dict[str, str | None] = field(default_factory=dict)
    #: spans of the source text written in LaTeX: (start, end, kind, html shown in place)
    markup: list[tuple[int, int, str, str]] = field(default_factory=list)
    yaml: YamlFile | None = field(default=None, repr=False)  # for line look-ups; not pickled


@dataclass
class KnowledgeBase:
    """Loaded documents and the vocabulary: what the machine checks run over."""

    vocabulary: Vocabulary | None
    documents: list[LoadedDocument]


# --------------------------------------------------------------------------- pydantic errors


def _unwrap(tp: Any) -> Any:
    """list[X] -> X, X | None -> X."""
    while True:
        args = typing.get_args(tp)
        origin = typing.get_origin(tp)
        if origin in (list, tuple) and args:
            tp = args[0]
        elif args and type(None) in args:
            tp = next(a for a in args if a is not type(None))
        else:
            return tp


def _model_at(path: tuple[Any, ...], model: Any = Document) -> type[BaseModel] | None:
    """The pydantic model that owns the mapping at `path` inside `model`."""
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        f = model.model_fields.get(str(part))
        if f is None:
            return None
        model = _unwrap(f.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def shown(value: Any) -> str:
    """A key or id from a data file as a message may print it: as written when it is
    printable, else escaped (a terminal must not receive the file's control characters,
    escape sequences or bidirectional overrides)."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A readable name for a location: claims[3] (id 000-c04).status"""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + shown(part)
        try:
            node = node[part]
        except (IndexError, KeyError, TypeError):
            node = None
        if isinstance(part, int) and isinstance(node, dict) and "id" in node:
            out += f" (id {shown(node['id'])})"
    return out or "the document"


def _validation_problem(e: dict[str, Any], yf: YamlFile, file: str, model: Any) -> Problem:
    loc = tuple(e["loc"])
    typ = e["type"]
    where = _where(loc, yf.data)
    got = e.get("input")
    if typ == "missing":
        name = loc[-1]
        return Problem(
            file,
            yf.line(loc[:-1]),
            f"missing required key `{name}` in {_where(loc[:-1], yf.data)}",
            f"add `{name}:` (see schema/document.schema.json for what it holds)",
        )
    if typ == "extra_forbidden":
        owner = _model_at(loc[:-1], model)
        allowed = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = (f"did you mean `{close[0]}`? " if close else "") + (
            f"allowed keys: {', '.join(allowed)}" if allowed else "remove it"
        )
        return Problem(
            file,
            yf.line(loc),
            f"unknown key `{shown(loc[-1])}` in {_where(loc[:-1], yf.data)}",
            hint,
        )
    if typ == "literal_error":
        expected = e.get("ctx", {}).get("expected", "")
        return Problem(
            file,
            yf.line(loc),
            f"unknown label {got!r} for `{where}`",
            f"use one of the vocabulary's labels exactly: {expected} "
            "(data/vocabulary.yaml defines them)",
        )
    got_text = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    return Problem(
        file,
        yf.line(loc),
        f"`{where}`: {e['msg']} (got {got_text})",
        "fix the value; see schema/document.schema.json for the expected type",
    )


def validation_problems(
    err: ValidationError, yf: YamlFile, file: str, model: type[BaseModel] = Document
) -> list[Problem]:
    """Turn a pydantic ValidationError into problems with lines and advice."""
    return [_validation_problem(e, yf, file, model) for e in err.errors(include_url=False)]


# --------------------------------------------------------------------------- reading files


def outside_link(path: Path, root: Path | None) -> Problem | None:
    """A problem when `path` is, or lies behind, a symbolic link that leads outside `root`."""
    if root is None:
        return None
    try:
        target = path.resolve()
        inside = target.is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        return Problem(
            display_path(path),
            None,
            "the file is a link that cannot be followed",
            "replace the link by the file itself",
        )
    if inside:
        return None
    return Problem(
        display_path(path),
        None,
        f"the file is a link to {target}, outside the data folder {display_path(root)}",
        "data files must live in the data folder: copy the file there instead of linking to it",
    )


class NotRegularFile(OSError):
    """A named pipe, socket or device where a data file is expected."""


def open_regular(path: Path) -> int:
    """A descriptor of a regular file, opened without waiting: a named pipe or a device
    (e.g. a link to /dev/stdin) would make a plain open() or read() wait forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    st = os.fstat(fd)
    if stat.S_ISREG(st.st_mode):
        return fd
    os.close(fd)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "a folder")
    raise NotRegularFile(errno.EINVAL, "not a regular file (a named pipe, socket or device)")


def _read_limited(path: Path, limit: int) -> bytes:
    """At most limit + 1 bytes of a regular file (OSError for anything else)."""
    with open(open_regular(path), "rb") as fh:
        return fh.read(limit + 1)


def _too_large(file: str, raw: bytes, limit: int) -> Problem:
    line = raw.count(b"\n", 0, limit) + 1  # where the bound is passed
    return Problem(
        file,
        line,
        f"the file has more than {limit:,} bytes, the most a data file may have "
        "(the bound is passed on this line)",
        "split the document, or shorten it",
    )


def read_bytes(
    path: Path, limit: int, root: Path | None = None
) -> tuple[bytes | None, list[Problem]]:
    """The bytes of a data file, or None and why not (missing, a link outside the data
    folder, not a regular file, too large, unreadable)."""
    file = display_path(path)
    link = outside_link(path, root)
    if link is not None:
        return None, [link]
    try:
        raw = _read_limited(path, limit)
    except FileNotFoundError:
        return None, [Problem(file, None, "file not found", "create it or correct the path")]
    except IsADirectoryError:
        return None, [Problem(file, None, "a folder where a file is expected", "remove it")]
    except NotRegularFile as e:
        return None, [Problem(file, None, e.strerror, "replace it by the file itself")]
    except OSError as e:
        return None, [
            Problem(file, None, f"cannot read the file: {e.strerror}", "check its permissions")
        ]
    if len(raw) > limit:
        return None, [_too_large(file, raw, limit)]
    return raw, []


def read_yaml(path: Path, root: Path | None = None) -> tuple[YamlFile | None, list[Problem]]:
    file = display_path(path)
    raw, problems = read_bytes(path, MAX_BYTES, root)
    if raw is None:
        return None, problems
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        return None, [
            Problem(
                file,
                line,
                f"not UTF-8 text ({e.reason} at byte {e.start})",
                "save the file as UTF-8",
            )
        ]
    try:
        yf = YamlFile(text)
    except YamlSyntaxError as e:
        return None, [
            Problem(
                file,
                e.line,
                e.message,
                "fix the YAML syntax (indentation, quotes, colons); the bounds on size, "
                "nesting, aliases and values are in the README (Input bounds)",
            )
        ]
    dups = [
        Problem(
            file,
            line,
            f"key `{shown(key)}` is given twice in the same mapping",
            "keep only one of them",
        )
        for line, key in yf.duplicate_keys()
    ]
    return yf, dups


def _vocabulary_mismatch(vocab: Vocabulary, yf: YamlFile, file: str) -> list[Problem]:
    out = []
    for name, expected in VOCABULARIES.items():
        terms = [t.term for t in getattr(vocab, name)]
        if sorted(terms) != sorted(expected):
            missing = sorted(set(expected) - set(terms))
            extra = sorted(set(terms) - set(expected))
            out.append(
                Problem(
                    file,
                    yf.line((name,)),
                    f"vocabulary `{name}` does not match the data model"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; not in the model {extra}" if extra else ""),
                    "labels are a public contract: change src/claimkb/model.py and this "
                    "file together",
                )
            )
        ranks = [t.rank for t in getattr(vocab, name)]
        if len(set(ranks)) != len(ranks):
            out.append(
                Problem(
                    file,
                    yf.line((name,)),
                    f"vocabulary `{name}` has two terms with the same rank",
                    "give each term its own rank",
                )
            )
    return out


def load_vocabulary(
    path: Path, root: Path | None = None
) -> tuple[Vocabulary | None, list[Problem]]:
    file = display_path(path)
    yf, problems = read_yaml(path, root)
    if yf is None:
        return None, problems
    if not isinstance(yf.data, dict):
        return None, [
            Problem(
                file,
                1,
                "the vocabulary file must be a mapping of vocabulary names to term lists",
                "see data/vocabulary.yaml in the repository",
            )
        ]
    try:
        vocab = Vocabulary.model_validate(yf.data)
    except ValidationError as e:
        return None, problems + validation_problems(e, yf, file, Vocabulary)
    return vocab, problems + _vocabulary_mismatch(vocab, yf, file)


# --------------------------------------------------------------------------- one document


def _read_source(
    doc: Document, yf: YamlFile, file: str, source_path: Path, root: Path | None
) -> tuple[str | None, list[Problem]]:
    """The source text, checked against the sha256 the document records."""
    src_file = display_path(source_path)
    raw, problems = read_bytes(source_path, MAX_SOURCE_BYTES, root)
    if raw is None:
        if problems and problems[0].message == "file not found":
            problems = [
                Problem(
                    file,
                    yf.line(("sha256",)),
                    f"source text {src_file} is missing",
                    "copy the document text there byte-identical (claimkb new does it)",
                )
            ]
        return None, problems
    sha = hashlib.sha256(raw).hexdigest()
    if sha != doc.sha256:
        problems.append(
            Problem(
                file,
                yf.line(("sha256",)),
                f"sha256 of {src_file} is {sha}, but the document records {doc.sha256}",
                "the source text must stay byte-identical to what was received: restore it, "
                "or if a new text was received on purpose, record its sha256 and re-check "
                "every quote",
            )
        )
    try:
        return raw.decode("utf-8"), problems
    except UnicodeDecodeError as e:
        return None, problems + [
            Problem(
                src_file,
                None,
                f"source text is not UTF-8 ({e.reason} at byte {e.start})",
                "store the text as UTF-8",
            )
        ]


def _labels(doc: Document, yf: YamlFile, file: str) -> tuple[dict[str, int], list[Problem]]:
    labels: dict[str, int] = {}
    problems = []
    for i, ref in enumerate(doc.bibliography):
        if ref.label in labels:
            problems.append(
                Problem(
                    file,
                    yf.line(("bibliography", i, "label")),
                    f"bibliography label {ref.label!r} is used twice "
                    f"(first at entry {labels[ref.label]})",
                    "give each entry its own label",
                )
            )
        labels.setdefault(ref.label, i)
    return labels, problems


def _cited_labels(
    kind: str, i: int, rec: Any, labels: dict[str, int], yf: YamlFile, file: str
) -> list[Problem]:
    known = ", ".join(sorted(labels)) or "(no bibliography yet)"
    return [
        Problem(
            file,
            yf.line((kind, i, "cites", j)),
            f"{SINGULAR[kind]} {rec.id} cites bibliography label {label!r}, "
            "which this document does not have",
            f"use one of: {known}; or add the entry",
        )
        for j, label in enumerate(getattr(rec, "cites", []))
        if label not in labels
    ]


def _own_evidence(
    ld: LoadedDocument, kind: str, i: int, rec: Any, labels: dict[str, int], yf: YamlFile, file: str
) -> list[Problem]:
    problems = []
    for j, ev in enumerate(rec.evidence):
        if ev.about is not None and ev.about != rec.id:
            problems.append(
                Problem(
                    file,
                    yf.line((kind, i, "evidence", j, "about")),
                    f"evidence inside {rec.id} says it is about {ev.about!r}",
                    "drop `about` inside a record's own evidence list",
                )
            )
        if ev.bibliography is not None and ev.bibliography not in labels:
            problems.append(
                Problem(
                    file,
                    yf.line((kind, i, "evidence", j, "bibliography")),
                    f"evidence of {rec.id} names bibliography label "
                    f"{ev.bibliography!r}, which this document does not have",
                    f"use one of: {', '.join(sorted(labels)) or '(none)'}",
                )
            )
        ld.evidence.append((SINGULAR[kind], rec.id, ev))
    return problems


def _duplicate_links(doc: Document, yf: YamlFile, file: str) -> list[Problem]:
    """A link given twice in one claim (the same target and relation): the database keeps
    one row per link, so say where both are instead of failing to write the second."""
    problems = []
    for i, claim in enumerate(doc.claims):
        first: dict[tuple[str, str], int] = {}
        for j, link in enumerate(claim.links):
            key = (link.to, link.relation)
            if key in first:
                at = yf.line(("claims", i, "links", first[key]))
                problems.append(
                    Problem(
                        file,
                        yf.line(("claims", i, "links", j)),
                        f"claim {claim.id} links to {link.to} (`{link.relation}`) twice; "
                        f"the first link is at {file}:{at}",
                        "keep one of them (put both notes in it)",
                    )
                )
            first.setdefault(key, j)
    return problems


def _equation_mathml(ld: LoadedDocument, eq: Any, i: int, yf: YamlFile, file: str) -> list[Problem]:
    """Render an equation's LaTeX (and its reconstruction) to MathML, or say why it cannot be."""
    out = []
    rec = eq.reconstruction
    for key, latex, path in (
        (eq.id, eq.latex, ("equations", i, "latex")),
        (
            f"{eq.id}/reconstruction",
            rec.latex if rec else None,
            ("equations", i, "reconstruction", "latex"),
        ),
    ):
        if not latex:
            continue
        try:
            ld.mathml[key] = to_mathml(latex)
        except MathError as e:
            out.append(
                Problem(
                    file,
                    yf.line(path),
                    f"equation {eq.id}: the LaTeX cannot be rendered: {e}",
                    "use standard LaTeX macros (\\frac, \\hbar, \\otimes, "
                    "\\overset{x}{\\longrightarrow} ...); see docs/curation.md",
                )
            )
    return out


def _records(ld: LoadedDocument, labels: dict[str, int], yf: YamlFile, file: str) -> list[Problem]:
    """Anchor every record, render equations, check cited labels, gather own evidence."""
    source = SourceText(ld.text)
    problems: list[Problem] = []
    for kind in RECORD_KINDS:
        for i, rec in enumerate(getattr(ld.doc, kind)):
            try:
                ld.anchors[rec.id] = source.anchor(rec.quote, rec.occurrence)
            except AnchorError as e:
                problems.append(
                    Problem(
                        file,
                        yf.line((kind, i, "quote")),
                        f"{SINGULAR[kind]} {rec.id}: {e.message}",
                        e.hint,
                    )
                )
            if kind == "equations":
                problems += _equation_mathml(ld, rec, i, yf, file)
            problems += _cited_labels(kind, i, rec, labels, yf, file)
            problems += _own_evidence(ld, kind, i, rec, labels, yf, file)
    return problems


def _top_level_evidence(
    ld: LoadedDocument, labels: dict[str, int], yf: YamlFile, file: str
) -> list[Problem]:
    """Evidence written apart from its record: attached to it when the record is this
    document's; else left for the judge (``foreign_evidence``)."""
    local = {rec.id: SINGULAR[kind] for kind in RECORD_KINDS for rec in getattr(ld.doc, kind)}
    problems = []
    for j, ev in enumerate(ld.doc.evidence):
        if ev.about is None:
            problems.append(
                Problem(
                    file,
                    yf.line(("evidence", j)),
                    "evidence item without `about`",
                    "name the id of the claim, equation or bibliography entry it is about",
                )
            )
        elif ev.about in local:
            ld.evidence.append((local[ev.about], ev.about, ev))
        else:
            ld.foreign_evidence.append((j, ev.about))
        if ev.bibliography is not None and ev.bibliography not in labels:
            problems.append(
                Problem(
                    file,
                    yf.line(("evidence", j, "bibliography")),
                    f"evidence names bibliography label {ev.bibliography!r}, "
                    "which this document does not have",
                    f"use one of: {', '.join(sorted(labels)) or '(none)'}",
                )
            )
    return problems


def parse_document(
    path: Path, sources_dir: Path, root: Path | None = None, raw_ids: set[str] | None = None
) -> tuple[LoadedDocument | None, list[Problem]]:
    """Validate one document file and anchor its quotes. Pure: reads only its two files
    (and refuses either when it is a link leading outside `root`, the data folder). When
    the document fails, `raw_ids` (if given) gets the record ids written in it."""
    yf, problems = read_yaml(path, root)
    if yf is None:
        return None, problems
    ld, more = _parse_yaml(path, yf, sources_dir, root)
    if ld is None and raw_ids is not None:
        raw_ids.update(_ids_written(yf.data))
    return ld, problems + more


def _parse_yaml(
    path: Path, yf: YamlFile, sources_dir: Path, root: Path | None
) -> tuple[LoadedDocument | None, list[Problem]]:
    file = display_path(path)
    problems: list[Problem] = []
    if not isinstance(yf.data, dict):
        return None, problems + [
            Problem(
                file,
                1,
                "a document file must be a YAML mapping (id:, title:, claims: ...)",
                "start from an existing document file or run `claimkb new`",
            )
        ]
    try:
        doc = Document.model_validate(yf.data)
    except ValidationError as e:
        return None, problems + validation_problems(e, yf, file)
    if doc.id != path.stem:
        problems.append(
            Problem(
                file,
                yf.line(("id",)),
                f"document id {doc.id!r} does not match the file name {path.name!r}",
                f"rename the file to {doc.id}.yaml or correct `id`",
            )
        )
    source_path = sources_dir / f"{path.stem}.txt"
    text, source_problems = _read_source(doc, yf, file, source_path, root)
    problems += source_problems
    if text is None:
        return None, problems
    ld = LoadedDocument(doc=doc, path=path, source_path=source_path, text=text, yaml=yf)
    labels, label_problems = _labels(doc, yf, file)
    problems += label_problems + _records(ld, labels, yf, file) + _duplicate_links(doc, yf, file)
    problems += _top_level_evidence(ld, labels, yf, file)
    problems += _rich_text(ld, yf, file)
    ld.markup, failed = source_markup(text)
    problems += [
        Problem(
            display_path(source_path),
            None,
            msg,
            "nothing to do unless the formula should render: the text itself stays as received",
            severity="warning",
        )
        for msg in failed
    ]
    return ld, problems


def _texts(ld: LoadedDocument) -> list[tuple[str, str | None, bool, tuple[Any, ...]]]:
    """Every text a page shows: (key in ld.html, text, inline, YAML path)."""
    d = ld.doc
    out: list[tuple[str, str | None, bool, tuple[Any, ...]]] = []
    if d.assessment is not None:
        out.append(("document/assessment", d.assessment.summary, False, ("assessment", "summary")))
    out.append(("document/metadata_notes", d.metadata_notes, False, ("metadata_notes",)))
    for kind in RECORD_KINDS:
        for i, rec in enumerate(getattr(d, kind)):
            if kind == "claims":
                out.append((f"{rec.id}/statement", rec.statement, True, (kind, i, "statement")))
            out.append((f"{rec.id}/rationale", rec.rationale, False, (kind, i, "rationale")))
            out += _assessment_texts(kind, i, rec)
    where = _evidence_paths(d)
    for n, (_kind, _about, ev) in enumerate(ld.evidence):
        out.append((f"evidence/{n}", ev.note, False, where.get(id(ev), ()) + ("note",)))
    return out


def _assessment_texts(kind: str, i: int, rec: Any) -> list[tuple[str, str | None, bool, tuple]]:
    """The adjudication, the readers' notes and the reasons of the history of a record."""
    out: list[tuple[str, str | None, bool, tuple[Any, ...]]] = []
    if getattr(rec, "adjudication", None):
        out.append((f"{rec.id}/adjudication", rec.adjudication, False, (kind, i, "adjudication")))
    for j, r in enumerate(getattr(rec, "readings", [])):
        out.append((f"{rec.id}/reading/{j}", r.note, True, (kind, i, "readings", j, "note")))
    for j, h in enumerate(getattr(rec, "history", [])):
        out.append((f"{rec.id}/history/{j}", h.reason, True, (kind, i, "history", j, "reason")))
    return out


def _evidence_paths(d: Document) -> dict[int, tuple[Any, ...]]:
    paths: dict[int, tuple[Any, ...]] = {}
    for kind in RECORD_KINDS:
        for i, rec in enumerate(getattr(d, kind)):
            for j, ev in enumerate(rec.evidence):
                paths[id(ev)] = (kind, i, "evidence", j)
    for j, ev in enumerate(d.evidence):
        paths[id(ev)] = ("evidence", j)
    return paths


def _rich_text(ld: LoadedDocument, yf: YamlFile, file: str) -> list[Problem]:
    """Render every text to HTML (Markdown, $...$ math); LaTeX outside $...$ is an error."""
    problems = []
    for key, text, inline, path in _texts(ld):
        raw = raw_latex(text)
        if raw:
            problems.append(
                Problem(
                    file,
                    yf.line(path),
                    f"{' '.join(raw)} written outside $...$: a page would show the LaTeX as it is",
                    "write the formula between dollar signs, "
                    "e.g. $\\hbar^2/m_e$ (a dollar sign itself is \\$)",
                )
            )
        try:
            ld.html[key] = render(text, inline=inline)
        except MathError as e:
            problems.append(
                Problem(
                    file,
                    yf.line(path),
                    f"a formula cannot be rendered: {e}",
                    "use standard LaTeX macros between $...$; see docs/curation.md",
                )
            )
    return problems


def line_of(ld: Any, path: tuple[Any, ...]) -> int | None:
    """The line of `path` in a document's YAML (read again when it was not kept)."""
    yf = getattr(ld, "yaml", None)
    if yf is None:
        yf, _ = read_yaml(ld.path)
        ld.yaml = yf
    return yf.line(path) if yf is not None else None


def record_ids(path: Path, root: Path | None = None) -> set[str]:
    """Record ids written in a document file that failed validation (from the raw YAML), so
    that links into a broken file are not reported as dangling on top of its own errors."""
    yf, _ = read_yaml(path, root)
    return _ids_written(yf.data if yf is not None else None)


def _ids_written(data: Any) -> set[str]:
    if not isinstance(data, dict):
        return set()
    ids: set[str] = set()
    for kind in RECORD_KINDS:
        records = data.get(kind)
        if isinstance(records, list):
            ids.update(str(r["id"]) for r in records if isinstance(r, dict) and "id" in r)
    return ids


def document_paths(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "documents").glob("*.yaml"))
