"""Looking divisions up: one division, its path from the province down, counts below it, search."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, true

from cloudctl.divisions.codes import LEVEL_NAMES, ancestors_of, validate_code
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store.tables.divisions import division, division_name_history

_COLUMNS = (division.c.code, division.c.name, division.c.level, division.c.parent_code, division.c.kind)


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: int
    parent_code: str | None
    kind: str
    path: tuple[str, ...] = field(default=())  # names from the province down to this one, when asked for

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level - 1]

    @property
    def full_name(self) -> str:
        return " / ".join(self.path) if self.path else self.name

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "level": self.level_name,
                                "parent_code": self.parent_code, "kind": self.kind}
        if self.path:
            data["path"] = list(self.path)
        return data


def _division(row: Any, path: tuple[str, ...] = ()) -> Division:
    return Division(row.code, row.name, int(row.level), row.parent_code, row.kind, path)


def find_division(conn: Connection, code: str) -> Division | None:
    """The division with CODE, or None."""
    code = validate_code(code)
    row = conn.execute(select(*_COLUMNS).where(division.c.code == code)).one_or_none()
    return _division(row) if row else None


def get_division(conn: Connection, code: str) -> Division:
    """The division with CODE; NotFoundError (exit 2) when the store has none."""
    found = find_division(conn, code)
    if found is None:
        raise NotFoundError(f"no division with code {code.strip()!r}", field="CODE",
                            hint="load divisions with `cloudctl init` (to township level) or "
                                 "`cloudctl divisions import` (villages); find codes with `cloudctl divisions search`")
    return found


def division_path(conn: Connection, code: str) -> list[Division]:
    """The divisions from the province down to CODE itself (NotFoundError if CODE is unknown)."""
    codes = ancestors_of(validate_code(code))
    rows = {r.code: r for r in conn.execute(select(*_COLUMNS).where(division.c.code.in_(codes)))}
    if codes[-1] not in rows:
        get_division(conn, code)  # raises NotFoundError
    return [_division(rows[c]) for c in codes if c in rows]


def _prefix_range(prefix: str) -> Any:
    """code starts with PREFIX, as an index-friendly range (':' sorts right after '9')."""
    return and_(division.c.code >= prefix, division.c.code < prefix + ":")


def children_counts(conn: Connection, code: str | None) -> dict[str, int]:
    """How many divisions of each level lie below CODE (the whole country for None), zeros kept."""
    if code is None:
        below = range(1, len(LEVEL_NAMES) + 1)
        where = true()
    else:
        level = get_division(conn, code).level
        below = range(level + 1, len(LEVEL_NAMES) + 1)
        where = and_(_prefix_range(code.strip()), division.c.level > level)
    q = select(division.c.level, func.count()).where(where).group_by(division.c.level)
    found = {int(level): int(n) for level, n in conn.execute(q)}
    return {LEVEL_NAMES[lv - 1]: found.get(lv, 0) for lv in below}


def direct_children(conn: Connection, code: str | None, *, limit: int | None = None) -> list[Division]:
    """The divisions one level below CODE (provinces for None), by code."""
    q = select(*_COLUMNS).order_by(division.c.code)
    q = q.where(division.c.level == 1) if code is None else q.where(division.c.parent_code == validate_code(code))
    if limit is not None:
        q = q.limit(limit)
    return [_division(r) for r in conn.execute(q)]


def name_history(conn: Connection, code: str) -> list[dict[str, str]]:
    """Earlier names of CODE, oldest first."""
    q = (select(division_name_history.c.old_name, division_name_history.c.new_name, division_name_history.c.changed_at)
         .where(division_name_history.c.code == validate_code(code)).order_by(division_name_history.c.id))
    return [dict(r._mapping) for r in conn.execute(q)]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_divisions(conn: Connection, text: str, limit: int = 20, *, level: int | None = None) -> list[Division]:
    """Divisions whose name contains TEXT (exact, then prefix, then anywhere) or whose code starts with
    TEXT (when TEXT is digits); shallow levels first. Each result carries its path of names."""
    text = text.strip()
    if not text:
        raise InputError("search text is empty", field="TEXT",
                         hint="give part of a name (海淀) or a code prefix (1101)")
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}", field="--limit")
    pattern = _like_escape(text)
    conditions = [division.c.name.like(f"%{pattern}%", escape="\\")]
    if text.isascii() and text.isdigit():
        conditions.append(_prefix_range(text))
    rank = case((division.c.code == text, 0), (division.c.name == text, 1),
                (division.c.name.like(f"{pattern}%", escape="\\"), 2), else_=3)
    q = select(*_COLUMNS).where(or_(*conditions)).order_by(rank, division.c.level, division.c.code).limit(limit)
    if level is not None:
        q = q.where(division.c.level == level)
    rows = list(conn.execute(q))
    names = _names_of(conn, {a for r in rows for a in ancestors_of(r.code)})
    return [_division(r, tuple(names[a] for a in ancestors_of(r.code) if a in names)) for r in rows]


def _names_of(conn: Connection, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    q = select(division.c.code, division.c.name).where(division.c.code.in_(sorted(codes)))
    return {code: name for code, name in conn.execute(q)}


def kind_counts(conn: Connection) -> dict[tuple[int, str], int]:
    """(level, kind) -> number of stored divisions."""
    q = select(division.c.level, division.c.kind, func.count()).group_by(division.c.level, division.c.kind)
    return {(int(level), kind): int(n) for level, kind, n in conn.execute(q)}


def level_counts(conn: Connection) -> dict[str, int]:
    """Stored divisions per level name (all five levels, zeros kept)."""
    return children_counts(conn, None)
