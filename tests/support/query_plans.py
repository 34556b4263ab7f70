"""What the database does with the API's hot queries: the exact statements that storage's
functions send (captured at the driver), their plans, and whether those plans read ``jobs``
through an index. Used by ``tests/integration/test_query_plans.py`` and the API load
benchmark (``benchmarks/api_load_sizes.py``); the service itself never explains its queries.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage.api_keys import active_key, any_active_key
from storage.job_queries import encode_cursor, get_job, list_jobs, owned_job, unfinished_jobs


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: object  # as the driver received them


@contextmanager
def captured(session: Session) -> Iterator[list[Statement]]:
    """The SELECTs ``session`` sends to the driver inside the block."""
    connection = session.connection()
    statements: list[Statement] = []

    def listener(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(Statement(statement, parameters))

    event.listen(connection, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", listener)


def statements_of(session: Session, call: Callable[[Session], object]) -> list[Statement]:
    """Run ``call(session)`` on an empty identity map and return the SELECTs it sent."""
    session.expunge_all()  # session.get() must reach the database
    with captured(session) as statements:
        call(session)
    return statements


def explain(session: Session, statement: Statement, *, analyze: bool = False) -> list[str]:
    """The plan, one line per node: PostgreSQL's EXPLAIN [ANALYZE], SQLite's EXPLAIN QUERY
    PLAN (which has no ANALYZE)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        options = "ANALYZE, BUFFERS" if analyze else "COSTS OFF"
        rows = connection.exec_driver_sql(
            f"EXPLAIN ({options}) {statement.sql}", statement.parameters
        )
        return [row[0] for row in rows]
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters)
    return [row[3] for row in rows]  # (id, parent, notused, detail)


def plan_problems(plan: list[str], dialect: str, table: str = "jobs") -> list[str]:
    """The plan's lines that read all of ``table`` or sort rows instead of reading them in index
    order: what makes a query slower as the table grows."""
    problems = []
    for line in plan:
        node = line.strip().removeprefix("->").strip()
        if dialect == "postgresql":
            # A Sort node is "Sort" or "Sort  (cost=...)"; "Sort Key: ..." lines belong to it
            sort = node == "Sort" or node.startswith(("Sort  (", "Incremental Sort"))
            if node.startswith(f"Seq Scan on {table}") or sort:
                problems.append(node)
        elif node.startswith(f"SCAN {table}") or "TEMP B-TREE" in node:
            problems.append(node)
    return problems


def uses_index(plan: list[str], dialect: str, table: str = "jobs") -> bool:
    """Whether the plan reads ``table`` through an index (a primary key counts)."""
    for line in plan:
        node = line.strip().removeprefix("->").strip()
        if dialect == "postgresql":
            if node.startswith(("Index Scan", "Index Only Scan", "Bitmap Index Scan")) and (
                f" on {table}" in node or f"{table}_pkey" in node or f"ix_{table}_" in node
            ):
                return True
        elif node.startswith(f"SEARCH {table} ") and ("INDEX" in node or "PRIMARY KEY" in node):
            return True
    return False


def hot_queries(
    *, owner: str, job_id: str, cursor_job_id: str, status: str, api_key: str | None
) -> dict[str, Callable[[Session], object]]:
    """The queries behind every API request, by name, as calls of storage's own functions:
    status polls (``GET /v1/jobs/{id}``), the list with and without ``?status=`` and its next
    page, the per-key quota count of ``POST /v1/jobs``, and the authentication lookups."""

    def page_two(session: Session):
        job = get_job(session, cursor_job_id)
        return list_jobs(session, owner=owner, limit=50, cursor=encode_cursor(job))

    queries: dict[str, Callable[[Session], object]] = {
        "status: owned_job": lambda s: owned_job(s, job_id, owner),
        "list: list_jobs(limit=50)": lambda s: list_jobs(s, owner=owner, limit=50),
        f"list: list_jobs(limit=50, status={status})": lambda s: list_jobs(
            s, owner=owner, limit=50, status=status
        ),
        "list: list_jobs(limit=50, cursor)": page_two,
        "quota: unfinished_jobs": lambda s: unfinished_jobs(s, owner),
        "auth: any_active_key": any_active_key,
    }
    if api_key is not None:
        queries["auth: active_key"] = lambda s: active_key(s, api_key)
    return queries


def last_statement(session: Session, call: Callable[[Session], object]) -> Statement:
    """The statement that matters of a call: its last SELECT (``page_two`` first reads the
    job its cursor names)."""
    statements = statements_of(session, call)
    if not statements:
        raise AssertionError("the call sent no SELECT")
    return statements[-1]
