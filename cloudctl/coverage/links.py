"""Extranet links: one division's government node connected to the extranet.

Writes go through Store.begin() with one audit record each (one summarising record for a
bulk upsert). Bulk paths use the DB-API cursor's executemany, never one ORM object per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from cloudctl.audit import Actor, record_change
from cloudctl.coverage.model import LINK_TYPES
from cloudctl.errors import ConflictError, InputError, NotFoundError
from cloudctl.inputs.csvfiles import read_csv
from cloudctl.store import Store
from cloudctl.store.tables.coverage import link as link_table
from cloudctl.values import MAX_NAME, control_character, parse_iso_date

COLUMNS: tuple[str, ...] = ("link_id", "division_code", "link_type", "bandwidth_mbps", "activated_on",
                            "retired_on", "provider")
CHUNK = 5000
PROGRESS_STEP = 10_000


@dataclass(frozen=True, slots=True)
class LinkRecord:
    link_id: str
    division_code: str
    link_type: str
    bandwidth_mbps: float
    activated_on: date
    retired_on: date | None = None
    provider: str | None = None

    def row(self) -> tuple[Any, ...]:
        return (self.link_id, self.division_code, self.link_type, float(self.bandwidth_mbps), self.activated_on,
                self.retired_on, self.provider)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["activated_on"] = self.activated_on.isoformat()
        data["retired_on"] = self.retired_on.isoformat() if self.retired_on else None
        return data


@dataclass(frozen=True)
class ImportResult:
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_date(text: str, field: str) -> date:
    """YYYY-MM-DD strictly (20190501 is refused); ValueError naming the field."""
    try:
        return parse_iso_date(text, field)
    except InputError as e:
        raise ValueError(f"{field} must be a date YYYY-MM-DD, got {text[:40]!r}") from e


def check_record(rec: LinkRecord) -> tuple[str, str] | None:
    """The first problem with a record as (field, message), or None. Division existence is checked apart."""
    if not rec.link_id or len(rec.link_id) > 64:
        return "link_id", "link_id must be 1 to 64 characters"
    for name, text in (("link_id", rec.link_id), ("provider", rec.provider)):
        if text and (bad := control_character(text)) is not None:
            return name, f"{name} contains the control character U+{ord(bad):04X}"
    if rec.provider and len(rec.provider) > MAX_NAME:
        return "provider", f"provider is {len(rec.provider):,} characters long (at most {MAX_NAME})"
    if not (rec.division_code.isdigit() and len(rec.division_code) in (2, 4, 6, 9, 12)):
        return "division_code", f"division_code must be 2, 4, 6, 9 or 12 digits, got {rec.division_code!r}"
    if rec.link_type not in LINK_TYPES:
        return "link_type", f"link_type must be one of {', '.join(LINK_TYPES)}, got {rec.link_type!r}"
    bw = rec.bandwidth_mbps
    if not isinstance(bw, int | float) or not math.isfinite(bw) or bw <= 0:
        return "bandwidth_mbps", f"bandwidth_mbps must be a positive number, got {bw!r}"
    if rec.retired_on is not None and rec.retired_on <= rec.activated_on:
        return "retired_on", (f"retired_on {rec.retired_on.isoformat()} must be after activated_on "
                              f"{rec.activated_on.isoformat()}")
    return None


def _record_from_row(row: list[str], dates: dict[str, date]) -> LinkRecord:
    """A record from CSV cells; ValueError('field|message') on a cell that does not parse.
    DATES caches the dates parsed so far (a links file repeats few thousand of them)."""
    link_id, code, ltype, bw, act, ret, provider = (c.strip() for c in row)
    try:
        bandwidth = float(bw)
    except ValueError:
        raise ValueError(f"bandwidth_mbps|bandwidth_mbps must be a positive number, got {bw[:40]!r}") from None
    for field, text in (("activated_on", act), ("retired_on", ret)):
        if text and text not in dates:
            try:
                dates[text] = parse_date(text, field)
            except ValueError as e:
                raise ValueError(f"{field}|{e}") from None
    return LinkRecord(link_id, code, ltype, bandwidth, dates[act] if act else None,  # type: ignore[arg-type]
                      dates[ret] if ret else None, provider or None)


def read_links_csv(path: str | Path, progress: Callable[[int], object] | None = None) -> list[tuple[int, LinkRecord]]:
    """Parse and check a links CSV (plain or gzip, cloudctl.inputs.csvfiles): (line number, record)
    pairs, or InputError at file:line:column. progress(n) is called after every PROGRESS_STEP rows."""
    table = read_csv(path)
    table.check_header(COLUMNS)
    name = table.path
    col = {f: i + 1 for i, f in enumerate(COLUMNS)}
    out: list[tuple[int, LinkRecord]] = []
    seen: dict[str, int] = {}
    dates: dict[str, date] = {}
    lines = table.row_lines()
    for row_number, row in enumerate(table.rows):
        line = lines[row_number]
        if all(not c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            raise InputError(f"expected {len(COLUMNS)} fields, got {len(row)}", file=name, line=line,
                             hint="header: " + ",".join(COLUMNS))
        try:
            rec = _record_from_row(row, dates)
        except ValueError as e:
            field, msg = str(e).split("|", 1)
            hint = "YYYY-MM-DD, e.g. 2015-05-31" if field.endswith("_on") else None
            raise InputError(msg, file=name, line=line, column=col[field], field=field, hint=hint) from None
        if not rec.activated_on:
            raise InputError("activated_on is required", file=name, line=line, column=col["activated_on"],
                             field="activated_on", hint="a date YYYY-MM-DD")
        if problem := check_record(rec):
            field, msg = problem
            raise InputError(msg, file=name, line=line, column=col[field], field=field)
        if rec.link_id in seen:
            raise InputError(f"duplicate link_id {rec.link_id!r} (first on line {seen[rec.link_id]})",
                             file=name, line=line, column=col["link_id"], field="link_id")
        seen[rec.link_id] = line
        out.append((line, rec))
        if progress and len(out) % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    return out


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def _db_row(conn: Connection, rec: LinkRecord) -> tuple[Any, ...]:
    if conn.dialect.name == "sqlite":
        return (rec.link_id, rec.division_code, rec.link_type, float(rec.bandwidth_mbps), rec.activated_on.isoformat(),
                rec.retired_on.isoformat() if rec.retired_on else None, rec.provider)
    return rec.row()


def missing_divisions(conn: Connection, codes: Iterable[str]) -> set[str]:
    """The codes that name no division (chunked IN queries on the DB-API cursor)."""
    unique = sorted(set(codes))
    p = _placeholder(conn)
    found: set[str] = set()
    cur = conn.connection.cursor()
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start:start + CHUNK]
        cur.execute(f"SELECT code FROM division WHERE code IN ({','.join([p] * len(chunk))})", chunk)
        found.update(r[0] for r in cur.fetchall())
    cur.close()
    return set(unique) - found


def _existing(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    p = _placeholder(conn)
    out: dict[str, tuple[Any, ...]] = {}
    cur = conn.connection.cursor()
    cols = ", ".join(COLUMNS)
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start:start + CHUNK])
        cur.execute(f"SELECT {cols} FROM link WHERE link_id IN ({','.join([p] * len(chunk))})", chunk)
        for r in cur.fetchall():
            out[r[0]] = _normal(r)
    cur.close()
    return out


def _normal(r: Sequence[Any]) -> tuple[Any, ...]:
    """A row in comparable form: dates as ISO strings, bandwidth as float."""
    def iso(v: Any) -> str | None:
        return None if v is None else v if isinstance(v, str) else v.isoformat()

    return (r[0], r[1], r[2], float(r[3]), iso(r[4]), iso(r[5]), r[6])


def check_divisions(conn: Connection, records: Sequence[LinkRecord], source: str,
                    lines: Sequence[int] | None = None) -> None:
    """Every record's division must be in the registry: InputError at the first unknown one (file:line:column)."""
    missing = missing_divisions(conn, (r.division_code for r in records))
    if missing:
        i = next(i for i, r in enumerate(records) if r.division_code in missing)
        raise InputError(f"unknown division code {records[i].division_code!r} ({len(missing)} unknown in all)",
                         file=source if lines else None, line=lines[i] if lines else None,
                         column=COLUMNS.index("division_code") + 1 if lines else None, field="division_code",
                         hint="import the divisions first (`cloudctl divisions import`), or fix the code")


def upsert_links(conn: Connection, records: Sequence[LinkRecord], actor: Actor, *,
                 source: str = "bulk", lines: Sequence[int] | None = None) -> ImportResult:
    """Insert or update links by link_id inside the caller's transaction; one audit record.

    Checks every record and that each division exists; raises InputError (naming the line
    when lines are given) before writing anything.
    """
    for i, rec in enumerate(records):
        if problem := check_record(rec):
            field, msg = problem
            raise InputError(msg, file=source if lines else None, line=lines[i] if lines else None,
                             field=field, hint=None if lines else f"record {i + 1} ({rec.link_id!r})")
    ids = [r.link_id for r in records]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i, x in enumerate(ids) if x in seen or seen.add(x))  # type: ignore[func-returns-value]
        raise InputError(f"duplicate link_id {ids[dup]!r}", file=source if lines else None,
                         line=lines[dup] if lines else None, field="link_id")
    check_divisions(conn, records, source, lines)
    existing = _existing(conn, [r.link_id for r in records])
    rows = [_db_row(conn, rec) for rec in records]
    changed = [row for row in rows if row[0] not in existing] if not existing else \
        [row for row in rows if existing.get(row[0]) != _normal(row)]
    inserted = sum(1 for row in changed if row[0] not in existing)
    if changed:
        p = _placeholder(conn)
        sets = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        sql = (f"INSERT INTO link ({', '.join(COLUMNS)}) VALUES ({', '.join([p] * len(COLUMNS))}) "
               f"ON CONFLICT (link_id) DO UPDATE SET {sets}")
        cur = conn.connection.cursor()
        cur.executemany(sql, changed)
        cur.close()
    result = ImportResult(source, len(records), inserted, len(changed) - inserted, len(records) - len(changed))
    record_change(conn, actor, "import", "link", source, None, result.to_json())
    return result


def import_links_csv(store: Store, path: str | Path, actor: Actor,
                     progress: Callable[[int], object] | None = None) -> ImportResult:
    """Import a links CSV all-or-nothing: idempotent upsert by link_id, one audit record."""
    parsed = read_links_csv(path, progress)
    with store.begin() as conn:
        return upsert_links(conn, [r for _, r in parsed], actor, source=str(path), lines=[n for n, _ in parsed])


def _from_db(r: Any) -> LinkRecord:
    act = r.activated_on if isinstance(r.activated_on, date) else date.fromisoformat(r.activated_on)
    ret = r.retired_on
    if isinstance(ret, str):
        ret = date.fromisoformat(ret)
    return LinkRecord(r.link_id, r.division_code, r.link_type, float(r.bandwidth_mbps), act, ret, r.provider)


def get_link(conn: Connection, link_id: str) -> LinkRecord | None:
    row = conn.execute(select(link_table).where(link_table.c.link_id == link_id)).first()
    return _from_db(row) if row else None


def add_link(store: Store, record: LinkRecord, actor: Actor) -> LinkRecord:
    """Add one link; ConflictError when link_id exists, InputError for a bad field or division."""
    if problem := check_record(record):
        field, msg = problem
        raise InputError(msg, field=field)
    with store.begin() as conn:
        if get_link(conn, record.link_id) is not None:
            raise ConflictError(f"link {record.link_id!r} already exists",
                                hint="use `cloudctl links import` to update links, or another link_id")
        if missing_divisions(conn, [record.division_code]):
            raise NotFoundError(f"no division with code {record.division_code!r}", field="division_code")
        conn.execute(link_table.insert().values(**asdict(record)))
        record_change(conn, actor, "create", "link", record.link_id, None, record.to_json())
    return record


def retire_link(store: Store, link_id: str, retired_on: date, actor: Actor) -> LinkRecord:
    """Set a link's retirement date (after its activation). Re-retiring on another date moves it."""
    with store.begin() as conn:
        before = get_link(conn, link_id)
        if before is None:
            raise NotFoundError(f"no link with id {link_id!r}", field="link_id")
        if retired_on <= before.activated_on:
            raise InputError(f"retired_on {retired_on.isoformat()} must be after activated_on "
                             f"{before.activated_on.isoformat()}", field="--on")
        conn.execute(update(link_table).where(link_table.c.link_id == link_id).values(retired_on=retired_on))
        after = LinkRecord(**{**asdict(before), "retired_on": retired_on})
        record_change(conn, actor, "retire", "link", link_id, before.to_json(), after.to_json())
    return after


def list_links(conn: Connection, *, region: str | None = None, division_code: str | None = None,
               link_type: str | None = None, provider: str | None = None, active_on: date | None = None,
               limit: int | None = None) -> list[LinkRecord]:
    """Links filtered by region (code prefix), exact division, type, provider, or active on a date."""
    c = link_table.c
    q = select(link_table).order_by(c.division_code, c.link_id)
    if region:
        q = q.where(c.division_code.startswith(region, autoescape=True))
    if division_code:
        q = q.where(c.division_code == division_code)
    if link_type:
        q = q.where(c.link_type == link_type)
    if provider:
        q = q.where(c.provider == provider)
    if active_on:
        q = q.where(c.activated_on <= active_on, (c.retired_on.is_(None)) | (c.retired_on > active_on))
    if limit:
        q = q.limit(limit)
    return [_from_db(r) for r in conn.execute(q)]
