"""The rules that span documents, in one place.

Every build (full or incremental) and ``claimkb validate`` / ``claimkb check`` hand the
judge a ``Summary`` of each document they read (``summarise``): its record ids, its
claims' links, its evidence about records elsewhere and its machine checks about other
documents' claims. ``Judge.verdict()`` then gives the problems (errors in the data) and
the findings (machine-check results) that need more than one document:

* a document id or record id used twice;
* a link to a record that does not exist, to a record that is not a claim, or to itself;
* a cycle of ``depends_on`` links (each claim holding only if the next one does);
* ``contradicts`` between two claims that are both rated as backed (a finding);
* top-level evidence about a record of another document, or of no document;
* a machine check about a claim of another document (run with both documents).

An incremental build also gives the judge what it needs of the documents it does not
read again: ``external`` looks their records up in the database, ``add_links`` adds
their links into the documents it does read, and ``add_edges`` their ``depends_on``
links. May import: model, problems, ingest, checks.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .checks.equations import check_equation
from .checks.findings import Collector, Finding, acknowledge
from .ingest.load import RECORD_KINDS, SINGULAR, LoadedDocument, line_of, parse_document
from .problems import Problem, display_path

#: statuses that say a claim is backed by evidence, best first
BACKED = ("established", "supported")
#: how a record is named in a message (with its number in its document's list)
_RECORD_NAMES = {"claims": "claim", "equations": "equation", "bibliography": "bibliography entry"}
#: the YAML of this many documents is kept for line look-ups (the most recently used)
_YAML_KEPT = 8


@dataclass(frozen=True)
class Record:
    """Where one record is: its document and its place in the document's lists."""

    path: Path
    doc_id: str
    kind: str  # claims, equations or bibliography
    index: int
    status: str | None  # a claim's status; None for other records


@dataclass(frozen=True)
class Link:
    """One link of one claim (``link_index`` None when only the database knows the claim)."""

    path: Path
    doc_id: str
    claim_index: int
    link_index: int | None
    claim_id: str
    claim_status: str
    to: str
    relation: str


@dataclass
class Summary:
    """What the judge needs of one document."""

    path: Path
    doc_id: str
    records: list[tuple[str, str, int, str | None]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    evidence: list[tuple[int, str]] = field(default_factory=list)  # (index, about) elsewhere
    deferred: list[int] = field(default_factory=list)  # equations checking others' claims
    #: acknowledgements no finding of the document itself used: (rule, about) -> reason
    acknowledged: dict[tuple[str, str], str] = field(default_factory=dict)


def summarise(
    ld: LoadedDocument,
    deferred: Iterable[int] = (),
    acknowledged: dict[tuple[str, str], str] | None = None,
) -> Summary:
    """The judge's view of a loaded document."""
    d = ld.doc
    s = Summary(
        ld.path,
        d.id,
        evidence=list(ld.foreign_evidence),
        deferred=list(deferred),
        acknowledged=dict(acknowledged or {}),
    )
    for kind in RECORD_KINDS:
        for i, rec in enumerate(getattr(d, kind)):
            s.records.append((rec.id, kind, i, rec.status if kind == "claims" else None))
    for i, claim in enumerate(d.claims):
        for j, link in enumerate(claim.links):
            s.links.append(
                Link(ld.path, d.id, i, j, claim.id, claim.status, link.to, link.relation)
            )
    return s


def document_ref(path: Path, doc_id: str) -> Any:
    """What Collector.add and line_of need of a document: its id, file and (lazily) YAML."""
    return SimpleNamespace(doc=SimpleNamespace(id=doc_id), path=path, yaml=None)


def contradiction(
    col: Collector,
    ld: Any,
    claim_id: str,
    status: str,
    other_id: str,
    other_status: str,
    path: tuple[Any, ...],
) -> None:
    """The finding of claim `claim_id` linked `contradicts` to `other_id`, given both statuses."""
    if status == "established" and other_status == "established":
        col.add(
            ld,
            "claim",
            claim_id,
            "contradiction-both-established",
            "error",
            f"Claims {claim_id} and {other_id} are linked `contradicts`, yet both are rated "
            "`established`: two contradicting claims cannot both agree with well-tested "
            "physics. Re-assess one of them (contradicted?) or correct the link.",
            path,
        )
    elif status in BACKED and other_status in BACKED:
        col.add(
            ld,
            "claim",
            claim_id,
            "contradiction-both-backed",
            "warning",
            f"Claims {claim_id} ({status}) and {other_id} ({other_status}) are linked "
            "`contradicts`, yet both are rated as backed by evidence. Re-assess one of them, "
            "or explain the tension in the rationales.",
            path,
        )


class Judge:
    """Record ids of every document seen; the problems and findings across documents."""

    def __init__(self, external: Callable[[str], Record | None] | None = None) -> None:
        self.where: dict[str, tuple[int, str, int]] = {}  # record id -> (document, kind, index)
        self.status: dict[str, str] = {}  # claim id -> status
        self.docs: list[tuple[Path, str]] = []  # document number -> (path, id)
        self.doc_ids: dict[str, int] = {}
        self.unloaded: set[str] = set()
        self.links: list[Link] = []
        self.evidence: list[tuple[Path, str, int, str]] = []
        self.deferred: list[tuple[Path, int]] = []
        self.edges: list[tuple[str, str]] = []  # depends_on links judged elsewhere
        self.acks: dict[tuple[str, str], str] = {}  # acknowledgements not used yet
        self.ack_docs: dict[tuple[str, str], tuple[Path, str]] = {}
        self.problems: list[Problem] = []
        self.external = external
        self._refs: dict[Path, Any] = {}  # documents whose YAML was read for a line

    # -- what the judge is told

    def add(self, s: Summary) -> int:
        """Add one document; return the number of problems known so far (a build stops
        writing rows at the first, so that the database never sees a duplicate id)."""
        n = len(self.docs)
        self.docs.append((s.path, s.doc_id))
        if s.doc_id in self.doc_ids:
            other = self.docs[self.doc_ids[s.doc_id]][0]
            at = f"{display_path(other)}:{self._line(other, s.doc_id, ('id',))}"
            self.problems.append(
                Problem(
                    display_path(s.path),
                    self._line(s.path, s.doc_id, ("id",)),
                    f"document id {s.doc_id!r} is also used by {at}",
                    "give each document its own id",
                )
            )
        else:
            self.doc_ids[s.doc_id] = n
        for rid, kind, i, status in s.records:
            self._add_record(s, n, rid, kind, i, status)
        self.links += s.links
        self.evidence += [(s.path, s.doc_id, j, about) for j, about in s.evidence]
        self.deferred += [(s.path, i) for i in s.deferred]
        for key, reason in s.acknowledged.items():
            self.acks[key] = reason
            self.ack_docs[key] = (s.path, s.doc_id)
        return len(self.problems)

    def _add_record(
        self, s: Summary, n: int, rid: str, kind: str, i: int, status: str | None
    ) -> None:
        other = self.lookup(rid)  # a document seen before, or (incremental) the database
        if other is not None:
            line = self._line(other.path, other.doc_id, (other.kind, other.index, "id"))
            what = _RECORD_NAMES[other.kind]
            self.problems.append(
                Problem(
                    display_path(s.path),
                    self._line(s.path, s.doc_id, (kind, i, "id")),
                    f"duplicate id {rid!r}: also the id of {what} {other.index + 1} of "
                    f"{other.doc_id} at {display_path(other.path)}:{line}",
                    "ids must be unique across the knowledge base; rename one",
                )
            )
            return
        self.where[rid] = (n, kind, i)
        if status is not None:
            self.status[rid] = status

    def add_unloaded(self, ids: Iterable[str]) -> None:
        """Ids of records in a document that failed to load: links to them are not reported
        (the broken document's own errors say what to fix)."""
        self.unloaded.update(ids)

    def add_links(self, links: Iterable[Link]) -> None:
        """Links of documents that are not read again, into those that are (incremental)."""
        self.links += links

    def add_edges(self, edges: Iterable[tuple[str, str]]) -> None:
        """``depends_on`` links among documents that are not read again (incremental)."""
        self.edges += edges

    def lookup(self, rid: str) -> Record | None:
        w = self.where.get(rid)
        if w is not None:
            path, doc_id = self.docs[w[0]]
            return Record(path, doc_id, w[1], w[2], self.status.get(rid))
        return self.external(rid) if self.external is not None else None

    # -- the verdict

    def verdict(self) -> tuple[list[Problem], list[Finding]]:
        """Problems and findings across documents, once every document was added."""
        col = Collector()
        problems = list(self.problems)
        seen: set[tuple[str, str, str]] = set()
        for link in self.links:
            problems += self._judge_link(link, col, seen)
        problems += self._cycles()
        problems += self._judge_evidence()
        if not problems:
            self._deferred_equations(col)
        findings = acknowledge(col.resolved(), self.acks)
        return problems + self._stale_acknowledgements(), findings

    def _stale_acknowledgements(self) -> list[Problem]:
        out = []
        for (rule, about), _reason in sorted(self.acks.items()):
            path, doc_id = self.ack_docs[(rule, about)]
            out.append(
                Problem(
                    display_path(path),
                    self._line(path, doc_id, ("acknowledged",)),
                    f"acknowledges a `{rule}` finding about {about}, which the checks do not make",
                    "remove the acknowledgement (the finding is gone, or rule and id are misspelt)",
                    severity="warning",
                )
            )
        return out

    def _ref(self, path: Path, doc_id: str) -> Any:
        """A document for line look-ups, its YAML read once for all its problems and
        findings (a file with thousands of duplicate ids is not read thousands of times)."""
        ref = self._refs.pop(path, None) or document_ref(path, doc_id)
        self._refs[path] = ref  # the most recently used last
        if len(self._refs) > _YAML_KEPT:
            del self._refs[next(iter(self._refs))]
        return ref

    def _line(self, path: Path, doc_id: str, where: tuple[Any, ...]) -> int | None:
        return line_of(self._ref(path, doc_id), where)

    def _link_line(self, link: Link) -> int | None:
        j = link.link_index
        if j is None:
            ref = self._ref(link.path, link.doc_id)
            line_of(ref, ())  # reads its YAML
            j = _find_link(link, ref.yaml)
        where: tuple[Any, ...] = ("claims", link.claim_index, "links")
        if j is not None:
            where += (j, "to")
        return self._line(link.path, link.doc_id, where)

    def _close(self, rid: str) -> str:
        close = difflib.get_close_matches(rid, list(self.where), n=1)
        return f"did you mean {close[0]!r}? " if close else ""

    def _judge_link(
        self, link: Link, col: Collector, seen: set[tuple[str, str, str]]
    ) -> list[Problem]:
        key = (link.claim_id, link.to, link.relation)
        if key in seen:  # an incoming link re-judged with its claim's own: once is enough
            return []
        seen.add(key)
        target = self.lookup(link.to)
        file = display_path(link.path)
        if target is None:
            if link.to in self.unloaded:
                return []
            return [
                Problem(
                    file,
                    self._link_line(link),
                    f"claim {link.claim_id} links to {link.to!r}, which is not a record in "
                    "the knowledge base",
                    self._close(link.to) + "use the id of an existing claim",
                )
            ]
        if target.kind != "claims":
            return [
                Problem(
                    file,
                    self._link_line(link),
                    f"claim {link.claim_id} links to {link.to!r}, which is a "
                    f"{SINGULAR[target.kind]}, not a claim",
                    "links relate claims to claims",
                )
            ]
        if link.to == link.claim_id:
            return [
                Problem(
                    file,
                    self._link_line(link),
                    f"claim {link.claim_id} links to itself",
                    "remove the link",
                )
            ]
        if link.relation == "contradicts" and target.status is not None:
            where = ("claims", link.claim_index, "links")
            if link.link_index is not None:
                where += (link.link_index,)
            contradiction(
                col,
                self._ref(link.path, link.doc_id),
                link.claim_id,
                link.claim_status,
                link.to,
                target.status,
                where,
            )
        return []

    def _cycles(self) -> list[Problem]:
        """Every cycle of depends_on links, reported once, at the link that closes it."""
        graph: dict[str, list[str]] = {}
        first: dict[tuple[str, str], Link] = {}
        for link in self.links:
            if link.relation == "depends_on":
                graph.setdefault(link.claim_id, []).append(link.to)
                first.setdefault((link.claim_id, link.to), link)
        for a, b in self.edges:
            graph.setdefault(a, []).append(b)
        out = []
        for cycle in find_cycles(graph):
            closing = next(
                (
                    first[(a, b)]
                    for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True)
                    if (a, b) in first
                ),
                None,
            )
            if closing is None:  # only among documents not read again: reported when they were
                continue
            shown = " -> ".join(cycle + cycle[:1])
            out.append(
                Problem(
                    display_path(closing.path),
                    self._link_line(closing),
                    f"the depends_on links form a cycle: {shown}",
                    "a claim cannot hold only if it itself holds: remove or reverse one "
                    "of these links",
                )
            )
        return out

    def _judge_evidence(self) -> list[Problem]:
        out = []
        for path, doc_id, j, about in self.evidence:
            line = self._line(path, doc_id, ("evidence", j, "about"))
            target = self.lookup(about)
            if target is None and about not in self.unloaded:
                out.append(
                    Problem(
                        display_path(path),
                        line,
                        f"evidence is about {about!r}, which is not a record in the knowledge base",
                        self._close(about)
                        + "use the id of a claim, equation or bibliography entry",
                    )
                )
            elif target is not None:
                out.append(
                    Problem(
                        display_path(path),
                        line,
                        f"evidence is about {about!r}, a record of another document "
                        f"({target.doc_id})",
                        "write evidence in the file of the document its record belongs to",
                    )
                )
        return out

    def _deferred_equations(self, col: Collector) -> None:
        """Machine checks about claims of other documents: with those documents loaded again."""
        cache: dict[Path, LoadedDocument | None] = {}

        def load(path: Path) -> LoadedDocument | None:
            if path not in cache:
                cache[path], _ = parse_document(path, path.parent.parent / "sources")
            return cache[path]

        for path, i in self.deferred:
            ld = load(path)
            if ld is None:
                continue
            eq = ld.doc.equations[i]
            claims: dict[str, Any] = {c.id: (ld, j, c) for j, c in enumerate(ld.doc.claims)}
            for rel in eq.machine_check.relations if eq.machine_check else ():
                target = self.lookup(rel.about) if rel.about else None
                if target is not None and target.kind == "claims" and rel.about not in claims:
                    other = load(target.path)
                    if other is not None:
                        claims[rel.about] = (other, target.index, other.doc.claims[target.index])
            check_equation(ld, i, eq, claims, col)


def _find_link(link: Link, yf: Any) -> int | None:
    """Index of a link the database knows in its claim's YAML list (for a problem's line)."""
    try:
        links = yf.data["claims"][link.claim_index].get("links") or []  # type: ignore[union-attr]
        return next(
            j
            for j, x in enumerate(links)
            if x.get("to") == link.to and x.get("relation") == link.relation
        )
    except Exception:  # noqa: BLE001 - only a line number is at stake
        return None


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The cycles of a directed graph, one per strongly connected component that has one
    (its nodes in link order, starting from the smallest id). Iterative: no recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:  # a self-link is reported as such, not as a cycle
                    out.append(_cycle_in(set(component), graph))
    return out


def _cycle_in(component: set[str], graph: dict[str, list[str]]) -> list[str]:
    """The shortest cycle through the component's smallest node (breadth first, inside it)."""
    start = min(component)
    parent: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for child in graph.get(node, ()):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            if child in component and child not in parent:
                parent[child] = node
                queue.append(child)
    return [start]  # pragma: no cover - a strongly connected component has a cycle
