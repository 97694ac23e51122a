"""Ready-made questions: fixed, parameterised SQL, the answer first and the SQL below it.

Each question is a page of its own that shows its result as a readable table (claims and
references linked to their pages) and offers its SQL to run or change in Datasette's SQL
page. They work for whatever name the database is served under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasette import NotFound, Response

from . import page


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    description: str
    sql: str
    params: tuple[str, ...] = ()
    #: result column -> the kind of record its value names (linked to its page)
    links: dict[str, str] = field(default_factory=dict)


QUESTIONS = (
    Question(
        "status-counts",
        "Claims per document and status",
        "How many claims of each evidence status every document makes.",
        """select f.document_id, d.title as document_title, f.value as status,
       f.count as claims
from document_facet_counts f join documents d on d.id = f.document_id
join evidence_statuses s on s.term = f.value
where f.table_name = 'claims' and f.column_name = 'status'
order by f.document_id, s.rank""",
        links={"document_id": "document"},
    ),
    Question(
        "no-physical-basis",
        "Claims with no physical basis",
        "Claims that rely on mechanisms violating fundamental laws, or that string physics "
        "terms together without a definable mechanism, with the curator's reasoning.",
        """select c.id as claim_id, c.document_id, c.statement_html, c.rationale_html
from claims c where c.status = 'no physical basis' order by c.document_id, c.position""",
        links={"claim_id": "claim", "document_id": "document"},
    ),
    Question(
        "citation-problems",
        "References with citation problems",
        "Bibliography entries whose printed citation has errors, is incomplete or could not "
        "be found, most problems first.",
        """select b.id as reference_id, b.citation_status, b.problem_count, b.problems,
       b.as_printed, b.document_id
from bibliography b join citation_statuses s on s.term = b.citation_status
where b.problem_count > 0 or b.citation_status not in ('verified', 'not checked')
order by b.problem_count desc, s.rank desc, b.document_id, b.position""",
        links={"reference_id": "reference", "document_id": "document"},
    ),
    Question(
        "equations-not-verified",
        "Equations not verified by machine",
        "Every equation whose check status is not `verified`, worst first.",
        """select e.id as equation_id, e.document_id, e.label, e.mathml as formula_html,
       e.check_status, e.status
from equations e join check_statuses s on s.term = e.check_status
where e.check_status <> 'verified' order by s.rank desc, e.document_id, e.position""",
        links={"equation_id": "equation", "document_id": "document"},
    ),
    Question(
        "self-citation-only",
        "Claims supported only by self-citation",
        "Claims that have evidence, all of it by the document's own authors.",
        """select c.id as claim_id, c.document_id, c.statement_html, c.status,
       count(e.id) as evidence_items
from claims c join evidence e on e.claim_id = c.id
where c.id in (select claim_id from evidence where self_citation = 1)
group by c.id having min(e.self_citation) = 1 order by c.document_id, c.position""",
        links={"claim_id": "claim", "document_id": "document"},
    ),
    Question(
        "contradicting-pairs",
        "Claims that contradict each other",
        "Pairs of claims recorded as contradicting each other, within or across documents.",
        """select l.from_claim, a.statement_html as from_statement_html, a.status as from_status,
       l.to_claim, b.statement_html as to_statement_html, b.status as to_status, l.note
from claim_links l join claims a on a.id = l.from_claim join claims b on b.id = l.to_claim
where l.relation = 'contradicts' order by l.from_claim, l.to_claim""",
        links={"from_claim": "claim", "to_claim": "claim"},
    ),
    Question(
        "re-rated",
        "Claims and equations re-rated",
        "Every change of a record's status, newest first, with the reason.",
        """select h.date, h.record_id, h.record_type, h.status as earlier_status,
       coalesce(c.status, e.status) as status_now, h.reason_html
from assessment_history h
left join claims c on h.record_type = 'claim' and c.id = h.record_id
left join equations e on h.record_type = 'equation' and e.id = h.record_id
order by h.date desc, h.record_id""",
        links={"record_id": "record"},
    ),
    Question(
        "disagreements",
        "Where the two readings disagreed",
        "Claims and equations whose two independent readings of the latest round gave "
        "different labels, with the label chosen and why.",
        """select a.record_id, a.record_type, a.round, a.status as first_reading,
       b.status as second_reading, coalesce(c.status, e.status) as status,
       coalesce(c.adjudication_html, e.adjudication_html) as adjudication_html
from readings a
join readings b on b.record_id = a.record_id and b.round = a.round and b.position = 2
left join claims c on a.record_type = 'claim' and c.id = a.record_id
left join equations e on a.record_type = 'equation' and e.id = a.record_id
where a.position = 1 and a.status <> b.status
  and a.round = (select max(r.round) from readings r where r.record_id = a.record_id)
order by a.record_id""",
        links={"record_id": "record"},
    ),
)
BY_NAME = {q.name: q for q in QUESTIONS}
#: rows a question's page shows (its SQL, run on the SQL page, gives them all)
MAX_ROWS = 200


async def questions(datasette: Any, request: Any) -> Response:
    async def build(db: Any) -> dict[str, Any]:
        return {"questions": QUESTIONS, "title": "Ready-made questions"}

    return await page(datasette, request, "claimkb_questions.html", build)


async def question(datasette: Any, request: Any) -> Response:
    q = BY_NAME.get(request.url_vars["name"])
    if q is None:
        raise NotFound("There is no such ready-made question.")

    async def build(db: Any) -> dict[str, Any]:
        result = await db.execute(q.sql + f" limit {MAX_ROWS + 1}")
        rows = [dict(r) for r in result.rows]
        return {
            "q": q,
            "columns": list(result.columns),
            "rows": rows[:MAX_ROWS],
            "truncated": len(rows) > MAX_ROWS,
            "max_rows": MAX_ROWS,
            "title": q.title,
        }

    return await page(datasette, request, "claimkb_question.html", build)


ROUTES = [(r"^/questions$", questions), (r"^/questions/(?P<name>[a-z-]+)$", question)]
