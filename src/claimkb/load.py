"""Files -> models. Every problem is reported as file:line with what to do.

``load_knowledge_base(data_dir)`` reads ``vocabulary.yaml``, every
``documents/*.yaml`` and its ``sources/<id>.txt``, validates them with the
pydantic models, checks the sha256 of each source, anchors every quote and
resolves every cross-reference. It collects *all* problems and raises one
``DataError`` with them, or returns a ``KnowledgeBase``.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import hashlib
import pickle
import sys
import typing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ValidationError

from .anchor import Anchor, AnchorError, SourceText
from .fileio import atomic_write
from .model import VOCABULARIES, Document, Evidence, Vocabulary
from .problems import DataError, Problem, display_path
from .yamlfile import YamlFile, YamlSyntaxError

RECORD_KINDS = ("claims", "equations", "bibliography")
#: singular names used in the database (`about_type`) and in messages
SINGULAR = {"claims": "claim", "equations": "equation", "bibliography": "bibliography"}


@dataclass
class LoadedDocument:
    """A validated document with its source text and the anchor of every quote."""

    doc: Document
    path: Path
    source_path: Path
    text: str
    anchors: dict[str, Anchor] = field(default_factory=dict)  # record id -> anchor
    mathml: dict[str, str] = field(default_factory=dict)  # equation id (or id + "/reconstruction") -> MathML
    evidence: list[tuple[str, str, Evidence]] = field(default_factory=list)  # (kind, about id, item)
    yaml: YamlFile | None = field(default=None, repr=False)  # for line look-ups; not pickled


@dataclass
class KnowledgeBase:
    vocabulary: Vocabulary
    documents: list[LoadedDocument]


# --------------------------------------------------------------------------- pydantic errors


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the mapping at `path` inside a Document."""
    model: Any = Document
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


def _unwrap(tp: Any) -> Any:
    """list[X] -> X, X | None -> X."""
    while True:
        args = typing.get_args(tp)
        origin = typing.get_origin(tp)
        if origin in (list, tuple) and args:
            tp = args[0]
        elif args and type(None) in args:
            rest = [a for a in args if a is not type(None)]
            tp = rest[0]
        else:
            return tp


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A readable name for a location: claims[3] (id 000-c04).status"""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            try:
                node = node[part]
                if isinstance(node, dict) and "id" in node:
                    out += f" (id {node['id']})"
            except (IndexError, KeyError, TypeError):
                node = None
        else:
            out += ("." if out else "") + str(part)
            try:
                node = node[part]
            except (IndexError, KeyError, TypeError):
                node = None
    return out or "the document"


def validation_problems(err: ValidationError, yf: YamlFile, file: str, model: type[BaseModel] = Document) -> list[Problem]:
    """Turn a pydantic ValidationError into problems with lines and advice."""
    out = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        typ = e["type"]
        where = _where(loc, yf.data)
        got = e.get("input")
        if typ == "missing":
            field_name = loc[-1]
            line = yf.line(loc[:-1])
            msg = f"missing required key `{field_name}` in {_where(loc[:-1], yf.data)}"
            hint = f"add `{field_name}:` (see schema/document.schema.json for what it holds)"
        elif typ == "extra_forbidden":
            line = yf.line(loc)
            owner = _model_at(loc[:-1]) if model is Document else model
            allowed = sorted(owner.model_fields) if owner else []
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = f"unknown key `{loc[-1]}` in {_where(loc[:-1], yf.data)}"
            hint = (f"did you mean `{close[0]}`? " if close else "") + (
                f"allowed keys: {', '.join(allowed)}" if allowed else "remove it"
            )
        elif typ == "literal_error":
            line = yf.line(loc)
            msg = f"unknown label {got!r} for `{where}`"
            expected = e.get("ctx", {}).get("expected", "")
            hint = f"use one of the vocabulary's labels exactly: {expected} (data/vocabulary.yaml defines them)"
        else:
            line = yf.line(loc)
            shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
            msg = f"`{where}`: {e['msg']} (got {shown})"
            hint = "fix the value; see schema/document.schema.json for the expected type"
        out.append(Problem(file, line, msg, hint))
    return out


# --------------------------------------------------------------------------- reading files


def read_yaml(path: Path) -> tuple[YamlFile | None, list[Problem]]:
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(file, None, "file not found", "create it or correct the path")]
    except UnicodeDecodeError as e:
        return None, [Problem(file, None, f"not UTF-8 text ({e.reason} at byte {e.start})", "save the file as UTF-8")]
    except OSError as e:
        return None, [Problem(file, None, f"cannot read the file: {e.strerror}", "check its permissions")]
    try:
        yf = YamlFile(text)
    except YamlSyntaxError as e:
        return None, [Problem(file, e.line, e.message, "fix the YAML syntax (indentation, quotes, colons)")]
    problems = [
        Problem(file, line, f"key `{key}` is given twice in the same mapping", "keep only one of them")
        for line, key in yf.duplicate_keys()
    ]
    return yf, problems


def load_vocabulary(path: Path) -> tuple[Vocabulary | None, list[Problem]]:
    file = display_path(path)
    yf, problems = read_yaml(path)
    if yf is None:
        return None, problems
    if not isinstance(yf.data, dict):
        return None, [Problem(file, 1, "the vocabulary file must be a mapping of vocabulary names to term lists", "see data/vocabulary.yaml in the repository")]
    try:
        vocab = Vocabulary.model_validate(yf.data)
    except ValidationError as e:
        return None, problems + validation_problems(e, yf, file, Vocabulary)
    for name, expected in VOCABULARIES.items():
        terms = [t.term for t in getattr(vocab, name)]
        if sorted(terms) != sorted(expected):
            missing = sorted(set(expected) - set(terms))
            extra = sorted(set(terms) - set(expected))
            problems.append(
                Problem(
                    file,
                    yf.line((name,)),
                    f"vocabulary `{name}` does not match the data model"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; not in the model {extra}" if extra else ""),
                    "labels are a public contract: change src/claimkb/model.py and this file together",
                )
            )
        ranks = [t.rank for t in getattr(vocab, name)]
        if len(set(ranks)) != len(ranks):
            problems.append(Problem(file, yf.line((name,)), f"vocabulary `{name}` has two terms with the same rank", "give each term its own rank"))
    return vocab, problems


def parse_document(path: Path, sources_dir: Path) -> tuple[LoadedDocument | None, list[Problem]]:
    """Validate one document file and anchor its quotes. Pure: reads only its two files."""
    file = display_path(path)
    yf, problems = read_yaml(path)
    if yf is None:
        return None, problems
    if not isinstance(yf.data, dict):
        return None, problems + [Problem(file, 1, "a document file must be a YAML mapping (id:, title:, claims: ...)", "start from an existing document file or run `claimkb new`")]
    try:
        doc = Document.model_validate(yf.data)
    except ValidationError as e:
        return None, problems + validation_problems(e, yf, file)

    if doc.id != path.stem:
        problems.append(Problem(file, yf.line(("id",)), f"document id {doc.id!r} does not match the file name {path.name!r}", f"rename the file to {doc.id}.yaml or correct `id`"))

    source_path = sources_dir / f"{path.stem}.txt"
    src_file = display_path(source_path)
    try:
        raw = source_path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(file, yf.line(("sha256",)), f"source text {src_file} is missing", "copy the document text there byte-identical (claimkb new does it)"))
        return None, problems
    sha = hashlib.sha256(raw).hexdigest()
    if sha != doc.sha256:
        problems.append(
            Problem(
                file,
                yf.line(("sha256",)),
                f"sha256 of {src_file} is {sha}, but the document records {doc.sha256}",
                "the source text must stay byte-identical to what was received: restore it, "
                "or if a new text was received on purpose, record its sha256 and re-check every quote",
            )
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(Problem(src_file, None, f"source text is not UTF-8 ({e.reason} at byte {e.start})", "store the text as UTF-8"))
        return None, problems

    ld = LoadedDocument(doc=doc, path=path, source_path=source_path, text=text)
    source = SourceText(text)

    # ids and labels inside the document
    labels: dict[str, int] = {}
    for i, ref in enumerate(doc.bibliography):
        if ref.label in labels:
            problems.append(Problem(file, yf.line(("bibliography", i, "label")), f"bibliography label {ref.label!r} is used twice (first at entry {labels[ref.label]})", "give each entry its own label"))
        labels.setdefault(ref.label, i)

    for kind in RECORD_KINDS:
        for i, rec in enumerate(getattr(doc, kind)):
            try:
                ld.anchors[rec.id] = source.anchor(rec.quote, rec.occurrence)
            except AnchorError as e:
                problems.append(Problem(file, yf.line((kind, i, "quote")), f"{SINGULAR[kind]} {rec.id}: {e.message}", e.hint))
            if kind == "equations":
                problems += _equation_mathml(ld, rec, i, yf, file)
            for j, label in enumerate(getattr(rec, "cites", [])):
                if label not in labels:
                    problems.append(Problem(file, yf.line((kind, i, "cites", j)), f"{SINGULAR[kind]} {rec.id} cites bibliography label {label!r}, which this document does not have", f"use one of: {', '.join(sorted(labels)) or '(no bibliography yet)'}; or add the entry"))
            for j, ev in enumerate(rec.evidence):
                if ev.about is not None and ev.about != rec.id:
                    problems.append(Problem(file, yf.line((kind, i, "evidence", j, "about")), f"evidence inside {rec.id} says it is about {ev.about!r}", "drop `about` inside a record's own evidence list"))
                if ev.bibliography is not None and ev.bibliography not in labels:
                    problems.append(Problem(file, yf.line((kind, i, "evidence", j, "bibliography")), f"evidence of {rec.id} names bibliography label {ev.bibliography!r}, which this document does not have", f"use one of: {', '.join(sorted(labels)) or '(none)'}"))
                ld.evidence.append((SINGULAR[kind], rec.id, ev))
    for j, ev in enumerate(doc.evidence):
        if ev.about is None:
            problems.append(Problem(file, yf.line(("evidence", j)), "evidence item without `about`", "name the id of the claim, equation or bibliography entry it is about"))
        if ev.bibliography is not None and ev.bibliography not in labels:
            problems.append(Problem(file, yf.line(("evidence", j, "bibliography")), f"evidence names bibliography label {ev.bibliography!r}, which this document does not have", f"use one of: {', '.join(sorted(labels)) or '(none)'}"))
    ld.yaml = yf
    return ld, problems


def _equation_mathml(ld: LoadedDocument, eq: Any, i: int, yf: YamlFile, file: str) -> list[Problem]:
    """Render an equation's LaTeX (and its reconstruction) to MathML, or say why it cannot be."""
    from .mathml import MathError, to_mathml

    out = []
    for key, latex, path in (
        (eq.id, eq.latex, ("equations", i, "latex")),
        (f"{eq.id}/reconstruction", eq.reconstruction.latex if eq.reconstruction else None, ("equations", i, "reconstruction", "latex")),
    ):
        if not latex:
            continue
        try:
            ld.mathml[key] = to_mathml(latex)
        except MathError as e:
            out.append(Problem(file, yf.line(path), f"equation {eq.id}: the LaTeX cannot be rendered: {e}", "use standard LaTeX macros (\\frac, \\hbar, \\otimes, \\overset{x}{\\longrightarrow} ...); see src/claimkb/mathml.py"))
    return out


def _parse_document_star(args: tuple[Path, Path]) -> tuple[LoadedDocument | None, list[Problem]]:
    ld, problems = parse_document(*args)
    if ld is not None:
        ld.yaml = None  # YAML node trees do not pickle; re-read on demand
        if not problems:
            blob = _DocumentCache(args[1]).put(args[0], ld)
            if blob is not None:  # already pickled for the cache: send those bytes, not pickle it again
                return blob, problems  # type: ignore[return-value]
    return ld, problems


#: everything a parsed document depends on besides its two files: the code that parses it
_CODE = Path(__file__).parent
_FINGERPRINT = hashlib.sha256(
    b"|".join(
        [sys.version.encode(), pydantic.VERSION.encode()]
        + [(_CODE / f).read_bytes() for f in ("load.py", "anchor.py", "model.py", "mathml.py", "yamlfile.py", "problems.py") if (_CODE / f).exists()]
    )
).hexdigest()


class _DocumentCache:
    """Validated, anchored documents, keyed by the sha256 of the document file, of its
    source text and of the code that parses them (so a stale entry is never used).

    Only documents without any problem are stored, and an entry is just the
    pickled result of parse_document(), so a build from the cache is identical
    to one without it; a rebuild after one document changed parses that
    document only. Lives next to the YAML cache (yamlfile.cache_dir()); switched
    off with CLAIMKB_NO_CACHE=1. Unreadable entries are ignored."""

    def __init__(self, sources: Path):
        from .yamlfile import cache_dir

        root = cache_dir()
        self.root = root / "documents" if root is not None else None
        self.sources = sources
        self.keys: dict[Path, str] = {}

    def _key(self, path: Path) -> str | None:
        try:
            doc = path.read_bytes()
            src = (self.sources / f"{path.stem}.txt").read_bytes()
        except OSError:
            return None
        h = hashlib.sha256(_FINGERPRINT.encode())
        for part in (path.name.encode(), hashlib.sha256(doc).digest(), hashlib.sha256(src).digest()):
            h.update(len(part).to_bytes(8, "big") + part)
        return h.hexdigest()

    def get(self, path: Path) -> LoadedDocument | None:
        if self.root is None:
            return None
        key = self.keys[path] = self._key(path) or ""
        if not key:
            return None
        try:
            ld = pickle.loads((self.root / key[:2] / key).read_bytes())
        except Exception:  # a missing, truncated or foreign entry: parse instead
            return None
        if not isinstance(ld, LoadedDocument):
            return None
        ld.path, ld.source_path = path, self.sources / f"{path.stem}.txt"
        return ld

    def put(self, path: Path, ld: LoadedDocument) -> bytes | None:
        """Store ld; return its pickle (None when nothing was stored)."""
        if self.root is None:
            return None
        key = self.keys.get(path) or self._key(path)
        if not key:
            return None
        entry = self.root / key[:2] / key
        keep, ld.yaml = ld.yaml, None
        try:
            blob = pickle.dumps(ld, protocol=pickle.HIGHEST_PROTOCOL)
            atomic_write(entry, blob)
            return blob
        except Exception:  # the cache is an optimisation: never fail a build for it
            return None
        finally:
            ld.yaml = keep


def _line(ld: LoadedDocument, path: tuple[Any, ...]) -> int | None:
    yf = ld.yaml
    if yf is None:
        yf, _ = read_yaml(ld.path)
        ld.yaml = yf
    return yf.line(path) if yf is not None else None


def _unloaded_ids(paths: list[Path]) -> set[str]:
    """Record ids written in document files that failed validation (read from the raw YAML),
    so that links into a broken file are not reported as dangling on top of its own errors."""
    ids: set[str] = set()
    for path in paths:
        yf, _ = read_yaml(path)
        data = yf.data if yf is not None else None
        if not isinstance(data, dict):
            continue
        for kind in RECORD_KINDS:
            records = data.get(kind)
            if isinstance(records, list):
                ids.update(str(r["id"]) for r in records if isinstance(r, dict) and "id" in r)
    return ids


def cross_check(docs: list[LoadedDocument], unloaded: set[str] = frozenset()) -> list[Problem]:
    """Problems that need the whole knowledge base: duplicate ids, dangling links and evidence.

    `unloaded` holds ids of records in documents that failed to load: a reference to
    one of them is not reported (the broken document's own errors say what to fix)."""
    problems: list[Problem] = []
    where: dict[str, tuple[LoadedDocument, str, int]] = {}
    doc_ids: dict[str, LoadedDocument] = {}
    for ld in docs:
        if ld.doc.id in doc_ids:
            problems.append(Problem(display_path(ld.path), _line(ld, ("id",)), f"document id {ld.doc.id!r} is also used by {display_path(doc_ids[ld.doc.id].path)}", "give each document its own id"))
        doc_ids[ld.doc.id] = ld
        for kind in RECORD_KINDS:
            for i, rec in enumerate(getattr(ld.doc, kind)):
                if rec.id in where:
                    other, okind, oi = where[rec.id]
                    problems.append(
                        Problem(
                            display_path(ld.path),
                            _line(ld, (kind, i, "id")),
                            f"duplicate id {rec.id!r}: also used by {SINGULAR[okind]} {oi} in {display_path(other.path)}:{_line(other, (okind, oi, 'id'))}",
                            "ids must be unique across the knowledge base; rename one",
                        )
                    )
                else:
                    where[rec.id] = (ld, kind, i)
    for ld in docs:
        file = display_path(ld.path)
        for i, claim in enumerate(ld.doc.claims):
            for j, link in enumerate(claim.links):
                target = where.get(link.to)
                if target is None and link.to in unloaded:
                    continue
                if target is None:
                    close = difflib.get_close_matches(link.to, list(where), n=1)
                    problems.append(Problem(file, _line(ld, ("claims", i, "links", j, "to")), f"claim {claim.id} links to {link.to!r}, which is not a record in the knowledge base", (f"did you mean {close[0]!r}? " if close else "") + "use the id of an existing claim"))
                elif target[1] != "claims":
                    problems.append(Problem(file, _line(ld, ("claims", i, "links", j, "to")), f"claim {claim.id} links to {link.to!r}, which is a {SINGULAR[target[1]]}, not a claim", "links relate claims to claims"))
                elif link.to == claim.id:
                    problems.append(Problem(file, _line(ld, ("claims", i, "links", j, "to")), f"claim {claim.id} links to itself", "remove the link"))
        for j, ev in enumerate(ld.doc.evidence):
            if ev.about is None:
                continue
            target = where.get(ev.about)
            if target is None and ev.about in unloaded:
                continue
            if target is None:
                close = difflib.get_close_matches(ev.about, list(where), n=1)
                problems.append(Problem(file, _line(ld, ("evidence", j, "about")), f"evidence is about {ev.about!r}, which is not a record in the knowledge base", (f"did you mean {close[0]!r}? " if close else "") + "use the id of a claim, equation or bibliography entry"))
            elif target[0] is not ld:
                problems.append(Problem(file, _line(ld, ("evidence", j, "about")), f"evidence is about {ev.about!r}, a record of another document ({target[0].doc.id})", "write evidence in the file of the document its record belongs to"))
            else:
                ld.evidence.append((SINGULAR[target[1]], ev.about, ev))
    return problems


def document_paths(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "documents").glob("*.yaml"))


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small objects.

    The data is acyclic, so nothing is leaked; without this, every collection
    re-scans everything already loaded and loading grows quadratically
    (a 1M-claim knowledge base loads 3-5 times faster)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # everything allocated meanwhile is still in the youngest generation: the
            # first collection would scan it all (seconds at a million claims), and
            # later ones again. Move it out of the collector's sight; objects are
            # still freed by reference counting when the knowledge base is dropped.
            gc.freeze()
            gc.enable()


def load_knowledge_base(data_dir: Path, *, workers: int = 1) -> KnowledgeBase:
    """Load and validate everything under data_dir, or raise DataError with every problem."""
    with no_gc():
        return _load_knowledge_base(data_dir, workers=workers)


def _load_knowledge_base(data_dir: Path, *, workers: int = 1) -> KnowledgeBase:
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    vocab, vp = load_vocabulary(data_dir / "vocabulary.yaml")
    problems += vp
    docs_dir = data_dir / "documents"
    if not docs_dir.is_dir():
        problems.append(Problem(display_path(docs_dir), None, "no documents folder", "create data/documents/ with one <id>.yaml per document"))
    paths = document_paths(data_dir)
    sources = data_dir / "sources"
    results: list[tuple[LoadedDocument | None, list[Problem]]]
    cached = _DocumentCache(sources)
    hits = {p: ld for p in paths if (ld := cached.get(p)) is not None}
    todo = [p for p in paths if p not in hits]
    if workers > 1 and len(todo) > 1:  # the workers store what they parse in the cache
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results_iter = pool.map(_parse_document_star, [(p, sources) for p in todo], chunksize=max(1, len(todo) // (workers * 8)))
            # unpickle each document as it arrives, while the workers go on
            parsed = [(pickle.loads(ld) if isinstance(ld, bytes) else ld, ps) for ld, ps in results_iter]
    else:
        parsed = []
        for p in todo:
            ld, ps = parse_document(p, sources)
            if ld is not None and not ps:
                cached.put(p, ld)
            parsed.append((ld, ps))
    fresh = dict(zip(todo, parsed))
    results = [(hits[p], []) if p in hits else fresh[p] for p in paths]
    docs = []
    failed = []
    for path, (ld, ps) in zip(paths, results):
        problems += ps
        if ld is not None:
            docs.append(ld)
        else:
            failed.append(path)
    # source texts nobody describes are worth a word, but not an error
    described = {p.stem for p in paths}
    if sources.is_dir():
        for src in sorted(sources.glob("*.txt")):
            if src.stem not in described:
                problems.append(Problem(display_path(src), None, "source text has no document file", f"describe it in data/documents/{src.stem}.yaml (claimkb new writes a draft)", severity="warning"))
    problems += cross_check(docs, _unloaded_ids(failed) if failed else frozenset())
    errors = [p for p in problems if p.severity == "error"]
    if errors or vocab is None:
        raise DataError(problems)
    kb = KnowledgeBase(vocabulary=vocab, documents=docs)
    kb.warnings = [p for p in problems if p.severity != "error"]  # type: ignore[attr-defined]
    return kb
