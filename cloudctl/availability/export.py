"""The links' up and down intervals that overlap a period, as stored (`coverage intervals`): for
auditors, spreadsheets and independent checks (benchmarks/availability_pandas_baseline.py).

One row per known interval: link_id, division_code, state (up|down), start, end (UTC ISO 8601 to
the millisecond). An interval ends where the link's next row starts, the last one at the link's
known_until (cut at now); intervals are not cut to the period. Any time of a link not covered by a
row is unknown (its agent was silent, or had not reported yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudctl.availability.period import Period, iso_ms

COLUMNS = ("link_id", "division_code", "state", "start", "end")


def export_sql(dialect: str, region: str | None) -> str:
    """Rows (link_id, division_code, up, start_ms, end_ms) of known intervals overlapping [:p0, :p1)."""
    pg = dialect == "postgresql"
    least = "LEAST" if pg else "min"
    bigint = "BIGINT" if pg else "INTEGER"
    where_region = " AND substr(l.division_code, 1, :region_len) = :region" if region else ""
    sql = f"""
SELECT x.link_id, l.division_code, x.up, x.start_ms, x.end_ms FROM (
  SELECT i.link_id, i.up, i.start_ms,
    COALESCE(LEAD(i.start_ms) OVER (PARTITION BY i.link_id ORDER BY i.start_ms),
             {least}(CAST(ROUND(s.known_until_ts * 1000) AS {bigint}), :now)) AS end_ms
  FROM link_interval AS i LEFT JOIN link_status AS s ON s.link_id = i.link_id
  WHERE i.start_ms < :p1) AS x
JOIN link AS l ON l.link_id = x.link_id
WHERE x.up IS NOT NULL AND x.end_ms > :p0 AND x.end_ms > x.start_ms{where_region}
ORDER BY x.link_id, x.start_ms"""
    if pg:
        from cloudctl.availability.query import to_pyformat

        return to_pyformat(sql)
    return sql


def export_intervals(store: Any, period: Period, now_ms: int, region: str | None = None) -> Iterator[tuple[Any, ...]]:
    """(link_id, division_code, state, start, end) of every known interval overlapping the period,
    in link and time order, streamed."""
    params: dict[str, Any] = {"p0": period.start_ms, "p1": period.end_ms, "now": now_ms}
    if region:
        params |= {"region": region, "region_len": len(region)}
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(export_sql(store.dialect, region), params)
        while batch := cur.fetchmany(5000):
            for link_id, code, up, start, end in batch:
                yield link_id, code, "up" if up == 1 else "down", iso_ms(int(start)), iso_ms(int(end))
        cur.close()
    finally:
        raw.close()
