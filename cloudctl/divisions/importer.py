"""Importing official division CSV files: all-or-nothing, idempotent upsert by code.

    files -> read + check each (csvfiles) -> check across files (duplicates)
          -> one transaction: parents known? diff against the store -> bulk insert/update
             -> name history for renames -> bump meta.divisions_generation -> one audit record

Renamed divisions keep their old name in division_name_history. Nothing is written unless
every file and every row is good.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from cloudctl.audit import Actor, record_change
from cloudctl.audit.log import now_utc
from cloudctl.divisions import bulk
from cloudctl.divisions.codes import LEVEL_NAMES
from cloudctl.divisions.csvfiles import DivisionFile, paused_gc, read_division_file
from cloudctl.divisions.kinds import kinds_of
from cloudctl.errors import InputError
from cloudctl.store import Store
from cloudctl.store.tables.core import meta

GENERATION_KEY = "divisions_generation"
Progress = Callable[..., None]


@dataclass
class LevelCounts:
    inserted: int = 0
    renamed: int = 0
    reclassified: int = 0  # same name, kind changed (a newer kind table)
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.renamed + self.reclassified + self.unchanged


@dataclass
class ImportResult:
    files: list[str]
    levels: dict[int, LevelCounts] = field(default_factory=dict)
    generation: int = 0
    audit_seq: int | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds: read, kinds, write, commit

    def _sum(self, attr: str) -> int:
        return sum(getattr(c, attr) for c in self.levels.values())

    @property
    def inserted(self) -> int:
        return self._sum("inserted")

    @property
    def renamed(self) -> int:
        return self._sum("renamed")

    @property
    def updated(self) -> int:
        """Rows whose stored name or kind changed."""
        return self._sum("renamed") + self._sum("reclassified")

    @property
    def unchanged(self) -> int:
        return self._sum("unchanged")

    @property
    def total(self) -> int:
        return self._sum("total")

    def rows(self) -> list[dict[str, Any]]:
        """One row per level present, for tables and CSV."""
        return [{"level": LEVEL_NAMES[level - 1], "rows": c.total, "inserted": c.inserted, "renamed": c.renamed,
                 "reclassified": c.reclassified, "unchanged": c.unchanged}
                for level, c in sorted(self.levels.items())]

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "levels": self.rows(), "inserted": self.inserted, "renamed": self.renamed,
                "updated": self.updated, "unchanged": self.unchanged, "total": self.total,
                "generation": self.generation, "seconds": round(self.seconds, 3)}


def _no_progress(n: int = 1, total: int | None = None) -> None:
    return None


def read_division_files(paths: Sequence[str | Path], progress: Progress | None = None) -> list[DivisionFile]:
    """Read and check the given official CSV files (plain or .gz): every problem is an InputError at
    file:line, before anything is written (the import action does this before authorization)."""
    progress = progress or _no_progress
    if not paths:
        raise InputError("no files to import", field="PATH", hint="give one or more division CSV files")
    files: list[DivisionFile] = []
    for path in paths:
        files.append(read_division_file(path))
        progress(len(files[-1]))
    _check_duplicates(files)
    return files


def import_division_files(store: Store, paths: Sequence[str | Path], actor: Actor,
                          progress: Progress | None = None) -> ImportResult:
    """Import the given official CSV files (plain or .gz) in one transaction; see module doc."""
    return import_divisions(store, read_division_files(paths, progress), actor, progress)


def import_divisions(store: Store, files: list[DivisionFile], actor: Actor,
                     progress: Progress | None = None) -> ImportResult:
    """Import files read by read_division_files, all or nothing, in one transaction."""
    clock = _PhaseClock()
    progress = progress or _no_progress
    total_rows = sum(len(f) for f in files)
    progress(0, total=2 * total_rows)
    clock.lap("read")
    with paused_gc():
        kinds = [kinds_of(f.names, f.level) for f in files]
        result = ImportResult(files=[f.path for f in files])
        clock.lap("kinds")
        with store.begin() as conn:
            bulk.lock_divisions(conn)
            _check_parents(conn, files)
            _write(conn, files, kinds, result, progress)
            clock.lap("write")
            result.generation = bump_generation(conn)
            result.audit_seq = record_change(
                conn, actor, "import", "division", ",".join(Path(p).name for p in result.files),
                before=None, after={"files": result.files, "levels": result.rows(), "generation": result.generation})
        clock.lap("commit")
    result.seconds, result.phases = clock.total(), clock.phases
    return result


class _PhaseClock:
    """Wall seconds per phase of an import (shown by the benchmark)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.phases: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(now - self.last, 3)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.started


def _check_duplicates(files: list[DivisionFile]) -> None:
    """A code may appear once in the whole import (set sizes first; locate only on failure)."""
    total = sum(len(f) for f in files)
    if len(set().union(*(f.codes for f in files))) == total:
        return
    seen: dict[str, tuple[DivisionFile, int]] = {}
    for f in files:
        for row, code in enumerate(f.codes):
            first = seen.setdefault(code, (f, row))
            if first != (f, row):
                where = f"{first[0].path}:{first[0].line_of(first[1])}"
                raise f.error(row, f"duplicate code {code!r} (first at {where})", field="code",
                              hint="each division appears once; remove the repeated row or file")


def _check_parents(conn: Connection, files: list[DivisionFile]) -> None:
    """Every parent code is in this import or already in the store."""
    by_level: dict[int, set[str]] = {}
    for f in files:
        by_level.setdefault(f.level, set()).update(f.codes)
    for f in files:
        if f.parents is None:
            continue
        needed = set(f.parents) - by_level.get(f.level - 1, set())
        if not needed:
            continue
        missing = needed - bulk.fetch_codes(conn, f.level - 1)
        if missing:
            row = next(i for i, p in enumerate(f.parents) if p in missing)
            parent_level = LEVEL_NAMES[f.level - 2]
            raise f.error(row, f"unknown parent code {f.parents[row]!r}: no such {parent_level} in the store "
                               "or in this import", field=f.format.parent_column,
                          hint=f"import the {parent_level} file first, or in the same command "
                               "(e.g. cloudctl divisions import areas.csv.gz streets.csv.gz)")


@dataclass
class _Changes:
    new_rows: list[Iterable[tuple[Any, ...]]] = field(default_factory=list)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, kind)
    history: list[tuple[str, str, str, str]] = field(default_factory=list)  # (code, old, new, at)


def _write(conn: Connection, files: list[DivisionFile], kinds: list[list[str]], result: ImportResult,
           progress: Progress) -> None:
    """Diff each file against the stored rows of its level, then bulk insert and update."""
    changes = _Changes()
    at = now_utc()
    for level in sorted({f.level for f in files}):  # parents first
        stored = bulk.fetch_columns(conn, level)
        for f, kind in ((f, k) for f, k in zip(files, kinds, strict=True) if f.level == level):
            _diff_file(f, kind, stored, result.levels.setdefault(level, LevelCounts()), changes, at)
    inserting = sum(c.inserted for c in result.levels.values())
    progress(sum(len(f) for f in files) - inserting - len(changes.changed))
    with bulk.bulk_load(conn, inserting):
        for rows in changes.new_rows:
            bulk.insert_divisions(conn, rows, progress)
    bulk.update_divisions(conn, changes.changed, progress)
    bulk.insert_name_history(conn, changes.history)


def _diff_file(f: DivisionFile, kind: list[str], stored: bulk.Columns, counts: LevelCounts, changes: _Changes,
               at: str) -> None:
    """Count and collect what F changes against the stored rows of its level.

    Fast paths compare whole columns (a re-import of the same file, or an empty level);
    otherwise set differences find the few rows that differ.
    """
    codes, names, kinds = stored
    parents: Sequence[str | None] = f.parents if f.parents is not None else [None] * len(f)
    if f.codes == codes and f.names == names and kind == kinds:  # the same rows, the same order
        counts.unchanged += len(f)
        return
    if not codes:
        changes.new_rows.append(zip(f.codes, f.names, [f.level] * len(f), parents, kind, strict=True))
        counts.inserted += len(f)
        return
    differing = set(zip(f.codes, f.names, kind, strict=True)).difference(zip(codes, names, kinds, strict=True))
    stored_name = dict(zip(codes, names, strict=True))
    fresh = {code for code, _, _ in differing if code not in stored_name}
    if fresh:
        changes.new_rows.append([(code, name, f.level, parent, k)
                                 for code, name, parent, k in zip(f.codes, f.names, parents, kind, strict=True)
                                 if code in fresh])
    counts.inserted += len(fresh)
    counts.unchanged += len(f) - len(differing)
    for code, name, k in sorted(differing):
        if code in fresh:
            continue
        changes.changed.append((code, name, k))
        if stored_name[code] != name:
            changes.history.append((code, stored_name[code], name, at))
            counts.renamed += 1
        else:
            counts.reclassified += 1


def bump_generation(conn: Connection) -> int:
    """Increment meta.divisions_generation (caches of derived arrays compare it)."""
    current = conn.execute(select(meta.c.value).where(meta.c.key == GENERATION_KEY)).scalar_one_or_none()
    if current is None:
        conn.execute(insert(meta).values(key=GENERATION_KEY, value="1"))
        return 1
    generation = int(current) + 1
    conn.execute(update(meta).where(meta.c.key == GENERATION_KEY).values(value=str(generation)))
    return generation


def divisions_generation(conn: Connection) -> int:
    """The current generation (0 before any import)."""
    value = conn.execute(select(meta.c.value).where(meta.c.key == GENERATION_KEY)).scalar_one_or_none()
    return int(value) if value is not None else 0
