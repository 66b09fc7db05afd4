"""PostgreSQL's planner statistics, kept current while HCS's tables grow fast.

The planner picks an index or a whole-table read from its statistics of each table. A table
never analysed (a fresh database) has none: PostgreSQL then assumes a match of many rows for
each value asked, and a round's lookups of fifty values read the whole table. Autovacuum
analyses a table once a tenth of it changed, but it looks only once a minute, and where it is
turned off, never: on a fresh database taking 100,000 emails, the archive's subject-key lookup
and the lease taken by entry id read every row of their tables each round, so each email cost
more than the one before (3.3 ms an email over 100,000 against 1.4 over 1,000).

So the workers' housekeeping (one worker at a time, under its lease) analyses the tables of its
schema that have more than doubled (and hold `MIN_ROWS` rows or more) since they were last
analysed. With autovacuum on, it seldom finds one. SQLite's planner uses its indexes without
statistics: there this does nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MIN_ROWS = 500

# The tables of this schema that hold `MIN_ROWS` rows and more than twice what their last
# ANALYZE counted (none: -1, never analysed). The counts are the cumulative statistics', a
# second or so behind.
_GROWN = text(
    "SELECT s.relname FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid"
    " WHERE s.schemaname = current_schema() AND s.n_live_tup >= :min_rows"
    " AND s.n_live_tup > 2 * greatest(c.reltuples, 0) ORDER BY s.relname"
)


def analyse_grown(session: Session) -> list[str]:
    """ANALYZE the tables that grew past their statistics, in `session`'s transaction; their
    names. PostgreSQL only. A table whose lock autovacuum holds is left to it."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return []
    analysed = []
    for table in connection.execute(_GROWN, {"min_rows": MIN_ROWS}).scalars().all():
        savepoint = connection.begin_nested()
        try:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            connection.exec_driver_sql(
                f"ANALYZE {connection.dialect.identifier_preparer.quote(table)}"
            )
        except DBAPIError:  # autovacuum holds it: it is being analysed anyway
            savepoint.rollback()
            continue
        savepoint.commit()
        analysed.append(table)
    if analysed:
        log.info("planner statistics refreshed", extra={"tables": analysed})
    return analysed
