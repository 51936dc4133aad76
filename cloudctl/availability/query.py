"""Availability of every link of a region over a period, rolled up, in one query (DB-API cursor).

The running sums of link_interval (availability/intervals.py) make a link's figures over [a, b)
two index look-ups: its last row starting at or before a, and its last row starting before b.
With U(t) = r.cum_up_ms + (r.up = 1) * max(0, min(t, known_until) - r.start_ms) (r: the link's
last row starting at or before t; known_until: link_status's, after which the state is unknown):
    up       = U(b) - U(a);   down likewise with r.up = 0 and cum_down_ms
    outages  = C(b) - C(a) + (down at a),  C(t) = r.cum_outages + (r.up = 0)
So the work follows the number of links, not the length of their history. The links active over
the whole period (nearly all) share its bounds as constants; the few activated or retired inside
it get theirs per link. The database does the sums and the roll-ups (per level — one code length
by a plain scan, only the links of other lengths sorted; the total is their sum —, per division at
the asked level ranked worst first — without grouping when each division has one link at most —,
the worst links); Python receives only the rows it prints.
Neither numpy nor SQLAlchemy is imported: the command starts as fast as `cloudctl --help` plus one
query (docs/availability.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cloudctl.availability.model import (
    LEVEL_LENGTHS,
    LEVEL_OF_LENGTH,
    AvailabilityReport,
    DivisionAvailability,
    Figures,
    LinkAvailability,
    Outage,
    TargetStatus,
)
from cloudctl.availability.period import Period
from cloudctl.errors import NotFoundError

if TYPE_CHECKING:
    from cloudctl.coverage.model import Target

KIND_TOTAL, KIND_LEVEL, KIND_DIVISION, KIND_LINK, KIND_PROVINCE_LEVEL, KIND_BELOW = range(6)
COLUMNS = ("kind", "key", "code", "name", "a", "b", "links", "span", "up", "down", "outages", "rank")


def _figures(alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return (f"count(*) AS links, sum({p}span) AS span, sum({p}up) AS up, sum({p}down) AS down, "
            f"sum({p}outages) AS outages")


def _worst_order(up: str, down: str, span: str, key: str) -> str:
    """Worst first: lowest availability (nothing known last), then most downtime, most unknown."""
    return (f"CASE WHEN {up} + {down} > 0 THEN 1.0 * {up} / ({up} + {down}) END ASC NULLS LAST, "
            f"{down} DESC, {span} - {up} - {down} DESC, {key}")


def _boundary_rows(pg: bool, link: str, a: str, b: str) -> str:
    """Join each link with its last row at or before `a` (ra) and before `b` (rb)."""
    if pg:
        return (f"LEFT JOIN LATERAL (SELECT * FROM link_interval AS i WHERE i.link_id = {link} "
                f"AND i.start_ms <= {a} ORDER BY i.start_ms DESC LIMIT 1) AS ra ON true "
                f"LEFT JOIN LATERAL (SELECT * FROM link_interval AS i WHERE i.link_id = {link} "
                f"AND i.start_ms < {b} ORDER BY i.start_ms DESC LIMIT 1) AS rb ON true")
    return (f"LEFT JOIN link_interval AS ra ON ra.link_id = {link} AND ra.start_ms = (SELECT i.start_ms "
            f"FROM link_interval AS i WHERE i.link_id = {link} AND i.start_ms <= {a} "
            "ORDER BY i.start_ms DESC LIMIT 1) "
            f"LEFT JOIN link_interval AS rb ON rb.link_id = {link} AND rb.start_ms = (SELECT i.start_ms "
            f"FROM link_interval AS i WHERE i.link_id = {link} AND i.start_ms < {b} "
            "ORDER BY i.start_ms DESC LIMIT 1)")


def _link_figures(pg: bool, a: str, b: str, ku: str) -> str:
    """A link's span, up, down and outages over [a, b) from its boundary rows ra and rb."""
    least, greatest = ("LEAST", "GREATEST") if pg else ("min", "max")

    def at(r: str, t: str, column: str, state: int) -> str:  # U(t) or D(t) from the row r
        # r's state lasts until t, unless known_until comes first (the common case tests only that)
        tail = (f"CASE WHEN s.known_until_ts * 1000 >= {t} THEN {t} - {r}.start_ms "
                f"ELSE {greatest}(0, {least}({t}, {ku}) - {r}.start_ms) END")
        return f"CASE {r}.up WHEN {state} THEN {r}.{column} + {tail} ELSE COALESCE({r}.{column}, 0) END"

    return (f"{b} - {a} AS span, {at('rb', b, 'cum_up_ms', 1)} - {at('ra', a, 'cum_up_ms', 1)} AS up, "
            f"{at('rb', b, 'cum_down_ms', 0)} - {at('ra', a, 'cum_down_ms', 0)} AS down, "
            "COALESCE(rb.cum_outages + CASE WHEN rb.up = 0 THEN 1 ELSE 0 END, 0) "
            "- COALESCE(ra.cum_outages + CASE WHEN ra.up = 0 THEN 1 ELSE 0 END, 0) "
            f"+ CASE WHEN ra.up = 0 AND {a} < {ku} THEN 1 ELSE 0 END AS outages")


def availability_sql(dialect: str, period: Period, *, region: str | None, level: str, worst: int | None,
                     province_levels: bool = False, below: float | None = None,
                     details: bool = True, links: int | None = None,
                     under: Sequence[str] = (), one_link_each: bool = False) -> tuple[str, dict[str, Any]]:
    """The one statement and its parameters (pure). Rows: COLUMNS, `kind` telling which roll-up;
    `below`: also count the divisions at `level` whose ratio is below it; details=False: only the
    levels (their sum is the total) and the provinces' levels, not the divisions and links; `links`: how many
    of the worst links (None: as many as `worst`, 0: none); `under`: only the links of these
    divisions (codes of one length) and of the divisions under them; one_link_each: no two links
    share a division and none is below `level` (one_link_each()), so that a division's figures
    are its link's and ranking them needs no grouping."""
    pg = dialect == "postgresql"
    least = "LEAST" if pg else "min"
    bigint = "BIGINT" if pg else "INTEGER"
    # the links active over the whole period share its bounds (constants: no per-link CASE);
    # `+` keeps SQLite from an index walk when it reads every link anyway
    p0, p1, plus = ("CAST(:p0 AS BIGINT)", "CAST(:p1 AS BIGINT)", "") if pg else (":p0", ":p1", "+")
    ku = f"COALESCE(CAST(ROUND(s.known_until_ts * 1000) AS {bigint}), 0)"
    params: dict[str, Any] = {"first": period.first, "last": period.last, "p0": period.start_ms,
                              "p1": period.end_ms, "level_len": LEVEL_LENGTHS[level]}
    if not pg:
        params = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}
    values = []
    for i, (day, ms) in enumerate(period.days):
        params[f"d{i}"], params[f"m{i}"] = (day if pg else day.isoformat()), ms
        values.append(f"(CAST(:d{i} AS DATE), CAST(:m{i} AS BIGINT))" if pg else f"(:d{i}, :m{i})")
    where_region = ""
    if region:
        params["region"], params["region_len"] = region, len(region)
        where_region = " AND substr(l.division_code, 1, :region_len) = :region"
    if under:
        params["under_len"] = len(under[0])
        params.update({f"u{i}": code for i, code in enumerate(under)})
        where_region += (" AND substr(l.division_code, 1, :under_len) IN ("
                         + ", ".join(f":u{i}" for i in range(len(under))) + ")")
    materialized = "MATERIALIZED "
    limit = " LIMIT :worst" if worst else ""
    links = worst if links is None else links
    link_limit = " LIMIT :links" if links else ""
    grouped = (f"SELECT g AS code, 1 AS links, span, up, down, outages FROM m WHERE n = :level_len "
               f"ORDER BY {_worst_order('up', 'down', 'span', 'g')}" if one_link_each else
               f"SELECT g AS code, {_figures()} FROM m WHERE n >= :level_len GROUP BY g "
               f"ORDER BY {_worst_order('sum(up)', 'sum(down)', 'sum(span)', 'g')}")
    sql = f"""
WITH days(day, ms) AS (VALUES {', '.join(values)}),
spans AS {materialized}(
  SELECT l.link_id AS link_id, l.division_code AS code,
    CASE WHEN l.activated_on > :first THEN (SELECT ms FROM days WHERE day = l.activated_on) ELSE :p0 END AS a,
    {least}(CASE WHEN l.retired_on IS NOT NULL AND l.retired_on <= :last
                 THEN (SELECT ms FROM days WHERE day = l.retired_on) ELSE :p1 END, :p1) AS b
  FROM link AS l
  WHERE ((l.activated_on > :first AND l.activated_on <= :last)
         OR (l.activated_on <= :first AND l.retired_on > :first AND l.retired_on <= :last))
    AND (l.retired_on IS NULL OR l.retired_on > :first){where_region}
),
m AS {materialized}(
  SELECT l.link_id AS link_id, l.division_code AS code, substr(l.division_code, 1, :level_len) AS g,
    length(l.division_code) AS n, {p0} AS a, {p1} AS b, {_link_figures(pg, p0, p1, ku)}
  FROM link AS l LEFT JOIN link_status AS s ON s.link_id = l.link_id
  {_boundary_rows(pg, 'l.link_id', p0, p1)}
  WHERE {plus}l.activated_on <= :first AND (l.retired_on IS NULL OR {plus}l.retired_on > :last)
    AND {p0} < {p1}{where_region}
  UNION ALL
  SELECT sp.link_id, sp.code, substr(sp.code, 1, :level_len), length(sp.code), sp.a, sp.b,
    {_link_figures(pg, 'sp.a', 'sp.b', ku)}
  FROM spans AS sp LEFT JOIN link_status AS s ON s.link_id = sp.link_id
  {_boundary_rows(pg, 'sp.link_id', 'sp.a', 'sp.b')}
  WHERE sp.a < sp.b
)
SELECT {KIND_LEVEL}, '', '', CAST(NULL AS TEXT), CAST(NULL AS {bigint}), CAST(NULL AS {bigint}), {_figures()},
  min(n) FROM m WHERE n = (SELECT n FROM m LIMIT 1)
UNION ALL
SELECT {KIND_LEVEL}, '', '', NULL, NULL, NULL, {_figures()}, n FROM m WHERE n <> (SELECT n FROM m LIMIT 1) GROUP BY n
{{details}}
UNION ALL
SELECT {KIND_DIVISION}, g.code, g.code, d.name, NULL, NULL, g.links, g.span, g.up, g.down, g.outages,
  ROW_NUMBER() OVER (ORDER BY {_worst_order('g.up', 'g.down', 'g.span', 'g.code')})
FROM ({grouped}{limit}) AS g
LEFT JOIN division AS d ON d.code = g.code
{{links}}
UNION ALL
SELECT {KIND_LINK}, w.link_id, w.code, d.name, w.a, w.b, 1, w.span, w.up, w.down, w.outages,
  ROW_NUMBER() OVER (ORDER BY {_worst_order('w.up', 'w.down', 'w.span', 'w.link_id')})
FROM (SELECT link_id, code, a, b, span, up, down, outages FROM m
      ORDER BY {_worst_order('up', 'down', 'span', 'link_id')}{link_limit}) AS w
LEFT JOIN division AS d ON d.code = w.code
"""
    head, _, arms = sql.partition("{details}")
    division_arm, _, link_arm = arms.partition("{links}")
    sql = head + (division_arm if details else "") + (link_arm if details and links != 0 else "") + "\n"
    if worst:
        params["worst"] = worst
    if links:
        params["links"] = links
    if below is not None:
        params["below"] = below
        per_division = ("SELECT up AS u, down AS d FROM m WHERE n = :level_len" if one_link_each else
                        "SELECT sum(up) AS u, sum(down) AS d FROM m WHERE n >= :level_len GROUP BY g")
        sql += (f"UNION ALL\nSELECT {KIND_BELOW}, '', '', CAST(NULL AS TEXT), CAST(NULL AS {bigint}), "
                f"CAST(NULL AS {bigint}), count(*), 0, 0, 0, 0, 0 FROM ({per_division}) AS x "
                "WHERE x.u + x.d > 0 AND 1.0 * x.u / (x.u + x.d) < :below\n")
    if province_levels:
        sql += (f"UNION ALL\nSELECT {KIND_PROVINCE_LEVEL}, substr(code, 1, 2), '', NULL, NULL, NULL, {_figures()}, "
                "n FROM m GROUP BY substr(code, 1, 2), n\n")
    return (to_pyformat(sql) if pg else sql), params


def to_pyformat(sql: str) -> str:
    """:name placeholders as psycopg's %(name)s."""
    return re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", r"%(\1)s", sql.replace("%", "%%"))


def _run(store: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    return rows


def read_availability(store: Any, period: Period, *, region: str | None = None, level: str = "township",
                      worst: int | None = None, province_levels: bool = False,
                      targets: Sequence[Target] = (), details: bool = True,
                      links: int | None = None, under: Sequence[str] = ()) -> AvailabilityReport:
    """Availability of the region's links over the period: totals, per level, per division at
    `level` (worst first; the `worst` first only), the worst links (with their outage intervals
    when a number of them is given: `links`, else `worst`), and the region's availability targets
    against the levels' figures. `under`: only the links of these divisions (one code length) and
    of the divisions under them (the report's worst townships, in one query)."""
    pg = store.dialect == "postgresql"
    region_name = check_region(store, region) if region else None
    mine = [t for t in targets if t.metric == "availability" and (t.region or None) == (region or None)]
    at_level = next((t for t in mine if t.level == level), None)
    sql, params = availability_sql(store.dialect, period, region=region, level=level, worst=worst,
                                   province_levels=province_levels,
                                   below=None if at_level is None or not details else at_level.ratio,
                                   details=details, links=links, under=under,
                                   one_link_each=details and not region and not under
                                   and one_link_each(store, LEVEL_LENGTHS[level]))  # pays off country-wide
    rows = sorted(_run(store, sql, params), key=lambda r: (r[0], r[-1] or 0))  # by kind, then rank (worst first)
    listed = worst if links is None else links
    total = Figures(0, 0, 0, 0, 0)
    levels: list[tuple[str, Figures]] = []
    divisions: list[DivisionAvailability] = []
    found_links: list[LinkAvailability] = []
    spans: dict[str, tuple[int, int]] = {}
    per_province: dict[tuple[str, str], Figures] = {}
    below = None
    for kind, key, code, name, a, b, n, span, up, down, outages, rank in rows:
        f = Figures(int(n), int(span or 0), int(up or 0), int(down or 0), int(outages or 0))
        if kind == KIND_LEVEL:  # the total is the sum of the levels
            if n:
                levels.append((LEVEL_OF_LENGTH.get(int(rank), str(rank)), f))
                total = Figures(total.links + f.links, total.span_ms + f.span_ms, total.up_ms + f.up_ms,
                                total.down_ms + f.down_ms, total.outages + f.outages)
        elif kind == KIND_DIVISION:
            divisions.append(DivisionAvailability(key, name or "", level, f))
        elif kind == KIND_LINK:
            found_links.append(LinkAvailability(key, code, name or "", f))
            spans[key] = (int(a), int(b))
        elif kind == KIND_BELOW:
            below = int(n)
        else:
            per_province[(key, LEVEL_OF_LENGTH.get(int(rank), str(rank)))] = f
    if listed and found_links:
        outages = outage_intervals(store, spans, pg)
        found_links = [replace(lk, outages=outages.get(lk.link_id, [])) for lk in found_links]
    by_level = dict(levels)
    statuses = [TargetStatus(t.level, t.ratio, t.by, by_level[t.level].ratio if t.level in by_level else None,
                             below if t is at_level else None) for t in mine]
    return AvailabilityReport(period.first, period.last, period.start_ms, period.end_ms, period.zone, region,
                              region_name, level, total, levels, divisions, found_links, worst, per_province,
                              statuses)


def one_link_each(store: Any, length: int) -> bool:
    """Whether no two links share a division code and no code is longer than `length`: then every
    division of that level has at most one link, its own (two scans of the code index)."""
    (total, codes, longest), = _run(store, "SELECT (SELECT count(*) FROM link), count(*), max(length(c)) "
                                    "FROM (SELECT DISTINCT division_code AS c FROM link) AS x", {})
    return bool(total) and total == codes and int(longest) <= length


def check_region(store: Any, code: str) -> str:
    """The region's name; NotFoundError (exit 2) when no division has that code."""
    pg = store.dialect == "postgresql"
    rows = _run(store, f"SELECT name FROM division WHERE code = {'%(c)s' if pg else ':c'}", {"c": code})
    if not rows:
        raise NotFoundError(f"no division with code {code!r}", field="--region",
                            hint="see `cloudctl divisions search NAME` for codes")
    return str(rows[0][0])


def outage_intervals(store: Any, spans: dict[str, tuple[int, int]], pg: bool) -> dict[str, list[Outage]]:
    """The down intervals of a few links within their spans [a, b) (the worst links' listing)."""
    if not spans:
        return {}
    ids = sorted(spans)
    marks = ", ".join((f"%(l{i})s" if pg else f":l{i}") for i in range(len(ids)))
    params: dict[str, Any] = {f"l{i}": k for i, k in enumerate(ids)}
    params["p1"] = max(b for _, b in spans.values())
    sql = ("SELECT i.link_id, i.start_ms, i.up, s.known_until_ts FROM link_interval AS i "
           "LEFT JOIN link_status AS s ON s.link_id = i.link_id "
           f"WHERE i.link_id IN ({marks}) AND i.start_ms < {'%(p1)s' if pg else ':p1'} "
           "ORDER BY i.link_id, i.start_ms")
    history: dict[str, list[tuple[int, int | None, float | None]]] = {}
    for link_id, start, up, known_until in _run(store, sql, params):
        history.setdefault(link_id, []).append((int(start), None if up is None else int(up), known_until))
    return {k: down_intervals(rows, *spans[k]) for k, rows in history.items()}


def down_intervals(rows: list[tuple[int, int | None, float | None]], a: int, b: int) -> list[Outage]:
    """The down intervals of one link's rows (start, up, known_until), cut to [a, b) (pure)."""
    out = []
    for i, (start, up, known_until) in enumerate(rows):
        if up != 0:
            continue
        end = rows[i + 1][0] if i + 1 < len(rows) else (0 if known_until is None else round(known_until * 1000))
        lo, hi = max(start, a), min(end, b)
        if hi > lo:
            out.append(Outage(lo, hi))
    return out
