"""Benchmark: import all five official division files (665,276 rows) into a fresh store.

Goal (issue 2): under 10 s on SQLite here. In the same process run it also times two
naive baselines on the same files and prints the ratios:

  pandas   read_csv(dtype=str) of each file + DataFrame.to_sql into the same division table
           (no checks at all, kind left empty: a lower bound for "just load it")
  rowwise  what a first attempt does: per row, look the parent up with a SELECT, then one
           INSERT ... ON CONFLICT DO UPDATE (upsert) per row, in one transaction

    python benchmarks/import_divisions.py [--data DIR] [--baseline pandas|rowwise|both|none] [--pg URL]

DIR defaults to $CLOUDCTL_DIVISIONS_DIR, else ../shared/data/divisions beside the repo.
--pg URL also times cloudctl's import into that (empty) PostgreSQL database (COPY path).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

from cloudctl.audit import Actor
from cloudctl.divisions.csvfiles import FORMATS
from cloudctl.divisions.importer import import_division_files
from cloudctl.store import open_store

FILES = ("provinces", "cities", "areas", "streets", "villages")
GOAL_SECONDS = 10.0


def default_data_dir() -> Path:
    env = os.environ.get("CLOUDCTL_DIVISIONS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "divisions"


def data_paths(data: Path) -> list[Path]:
    paths = []
    for name in FILES:
        candidates = [data / f"{name}.csv.gz", data / f"{name}.csv"]
        found = next((p for p in candidates if p.exists()), None)
        if found is None:
            sys.exit(f"missing {name}.csv(.gz) in {data}: pass --data DIR or set CLOUDCTL_DIVISIONS_DIR")
        paths.append(found)
    return paths


def time_cloudctl(url: str, paths: list[Path], label: str) -> float:
    """Time a fresh import and an idempotent re-import, print both; return the fresh import's seconds."""
    store = open_store(url)
    actor = Actor("benchmark", "benchmarks/import_divisions.py")
    cpu, started = time.process_time(), time.perf_counter()
    result = import_division_files(store, paths, actor)
    fresh, fresh_cpu = time.perf_counter() - started, time.process_time() - cpu
    cpu, started = time.process_time(), time.perf_counter()
    again = import_division_files(store, paths, actor)
    reimport, reimport_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert again.unchanged == result.inserted, "re-import changed rows"
    store.dispose()
    verdict = "meets" if fresh < GOAL_SECONDS else "MISSES"
    phases = ", ".join(f"{k} {v:.2f}" for k, v in result.phases.items())
    print(f"cloudctl import, {label}: {result.inserted} rows in {fresh:6.2f} s wall, {fresh_cpu:5.2f} s CPU "
          f"({result.inserted / fresh:,.0f} rows/s; {verdict} the {GOAL_SECONDS:.0f} s goal) [{phases}]")
    phases = ", ".join(f"{k} {v:.2f}" for k, v in again.phases.items())
    print(f"cloudctl re-import (no-op), {label}: {reimport:6.2f} s wall, {reimport_cpu:5.2f} s CPU [{phases}]")
    return fresh


def time_pandas(url: str, paths: list[Path]) -> tuple[float, float]:
    import pandas as pd

    store = open_store(url)  # same schema and indexes as cloudctl's
    cpu, started = time.process_time(), time.perf_counter()
    with store.begin() as conn:
        for level, path in enumerate(paths, start=1):
            fmt = FORMATS[level - 1]
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            out = pd.DataFrame({"code": frame["code"], "name": frame["name"], "level": level,
                                "parent_code": frame[fmt.parent_column] if fmt.parent_column else None,
                                "kind": ""})
            out.to_sql("division", conn, if_exists="append", index=False, chunksize=50_000)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.dispose()
    return seconds, cpu


def time_rowwise(url: str, paths: list[Path]) -> tuple[float, float]:
    import csv

    store = open_store(url)
    cpu, started = time.process_time(), time.perf_counter()
    with store.begin() as conn:
        cur = conn.connection.cursor()
        for level, path in enumerate(paths, start=1):
            fmt = FORMATS[level - 1]
            with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    parent = row[fmt.parent_column] if fmt.parent_column else None
                    if parent is not None:
                        cur.execute("SELECT 1 FROM division WHERE code = ?", (parent,))
                        if cur.fetchone() is None:
                            raise SystemExit(f"{path}: unknown parent {parent}")
                    cur.execute("INSERT INTO division (code, name, level, parent_code, kind) VALUES (?, ?, ?, ?, ?) "
                                "ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                                (row["code"], row["name"], level, parent, ""))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.dispose()
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder with the five files")
    parser.add_argument("--baseline", choices=("pandas", "rowwise", "both", "none"), default="both")
    parser.add_argument("--pg", metavar="URL", help="also time cloudctl on this empty PostgreSQL database")
    args = parser.parse_args()
    paths = data_paths(args.data)
    load = os.getloadavg()[0]
    print(f"files: {args.data} ({', '.join(p.name for p in paths)}); load average {load:.1f} on "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-divisions-") as tmp:
        fresh = time_cloudctl(f"sqlite:///{tmp}/cloudctl.sqlite3", paths, "SQLite")
        baselines = []
        if args.baseline in ("pandas", "both"):
            baselines.append(("pandas read_csv + to_sql (no checks)", time_pandas, "pandas"))
        if args.baseline in ("rowwise", "both"):
            baselines.append(("row-by-row SELECT parent + upsert", time_rowwise, "rowwise"))
        for label, run, name in baselines:
            seconds, cpu = run(f"sqlite:///{tmp}/{name}.sqlite3", paths)
            print(f"baseline {label}: {seconds:6.2f} s wall, {cpu:5.2f} s CPU -> cloudctl is "
                  f"{seconds / fresh:.2f}x as fast")
    if args.pg:
        time_cloudctl(args.pg, paths, "PostgreSQL")


if __name__ == "__main__":
    main()
