"""Benchmark: coverage roll-up of all five levels for the country and every province, one date.

Builds (or reuses) a SQLite store with all five official division files and >= 200k
synthetic links, then times, in this one run:
  - cloudctl cold: rollup_by_child(country) with no cache (reads the divisions' columns);
  - cloudctl warm: the same with the derived arrays cached (as a second command would);
  - pandas baseline: pd.read_sql of divisions and active links, then groupby.
Checks that both give the same numbers and prints the ratios. In-process only: the
whole-process figure of issue 13 (start-up included) is benchmarks/rollup_cli.py.

  python3 benchmarks/rollup.py [--db PATH] [--divisions DIR] [--links N] [--repeat N]
Env: CLOUDCTL_BENCH_DB, CLOUDCTL_DIVISIONS_DIR.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cloudctl.audit import Actor  # noqa: E402
from cloudctl.coverage import arrays as arrays_module  # noqa: E402
from cloudctl.coverage.links import LinkRecord, upsert_links  # noqa: E402
from cloudctl.coverage.model import LEVELS, LINK_TYPES  # noqa: E402
from cloudctl.coverage.rollup import rollup_by_child  # noqa: E402
from cloudctl.store import Store, open_store  # noqa: E402

FILES = ("provinces", "cities", "areas", "streets", "villages")
AS_OF = date(2020, 6, 30)
ACTOR = Actor("benchmark", "benchmarks/rollup.py")


def count(store: Store, table: str) -> int:
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cur.fetchone()[0])
    finally:
        raw.close()


def load_divisions(store: Store, folder: Path) -> None:
    paths = [folder / f"{name}.csv.gz" for name in FILES]
    try:
        from cloudctl.divisions.importer import import_division_files
    except ImportError:
        import_division_files = None
    if import_division_files is not None:
        import_division_files(store, paths, ACTOR)
        return
    from cloudctl.divisions.kinds import kinds_of  # direct bulk load until the importer lands

    rows = []
    for level, path in enumerate(paths, start=1):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            parent_col = header.index(("provinceCode", "cityCode", "areaCode", "streetCode")[level - 2]) \
                if level > 1 else None
            recs = list(reader)
        kinds = kinds_of([r[1] for r in recs], level)
        rows += [(r[0], r[1], level, r[parent_col] if parent_col is not None else None, k)
                 for r, k in zip(recs, kinds, strict=True)]
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany("INSERT INTO division (code, name, level, parent_code, kind) VALUES (?, ?, ?, ?, ?)", rows)
        cur.execute("INSERT INTO meta (key, value) VALUES ('divisions_generation', '1') "
                    "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        cur.execute("COMMIT")
    finally:
        raw.close()


def synthetic_links(store: Store, n: int, seed: int = 20150531) -> list[LinkRecord]:
    """Deterministic links: every province, most prefectures and counties, a share of townships
    and villages; activations 2009..2024, 15 % retired later; some divisions with two links."""
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT code, level FROM division")
        codes, levels = map(np.array, zip(*cur.fetchall(), strict=True))
    finally:
        raw.close()
    rng = np.random.default_rng(seed)
    share = {1: 1.0, 2: 0.97, 3: 0.9, 4: 0.6, 5: 0.0}
    picked = [codes[levels == lv][rng.random((levels == lv).sum()) < p] for lv, p in share.items()]
    base = np.concatenate(picked)
    villages = codes[levels == 5]
    rest = max(0, n - len(base))
    chosen = np.concatenate([base, rng.choice(villages, size=rest, replace=True)])[:n]
    start = date(2009, 1, 1).toordinal()
    act = rng.integers(0, 16 * 365, size=len(chosen)) + start
    retire = rng.random(len(chosen)) < 0.15
    life = rng.integers(180, 8 * 365, size=len(chosen))
    types = rng.integers(0, len(LINK_TYPES), size=len(chosen))
    return [LinkRecord(f"BL{i:07d}", str(c), LINK_TYPES[int(t)], 100.0, date.fromordinal(int(a)),
                       date.fromordinal(int(a + life_i)) if r else None, None)
            for i, (c, a, r, life_i, t) in enumerate(zip(chosen, act, retire, life, types, strict=True))]


def pandas_baseline(store: Store, as_of: date) -> dict[tuple[str, int], tuple[int, int]]:
    """The straightforward pandas way: read the columns the answer needs, isin, groupby."""
    import pandas as pd

    raw = store.raw_connection()
    try:
        dbapi = getattr(raw, "driver_connection", raw)  # a pooled connection's driver, or sqlite3's own
        div = pd.read_sql("SELECT code, level FROM division", dbapi)
        active = pd.read_sql("SELECT DISTINCT division_code FROM link WHERE activated_on <= ? "
                             "AND (retired_on IS NULL OR retired_on > ?)", dbapi,
                             params=(as_of.isoformat(), as_of.isoformat()))
    finally:
        raw.close()
    div["covered"] = div["code"].isin(active["division_code"])
    div["province"] = div["code"].str[:2]
    country = div.groupby("level")["covered"].agg(["size", "sum"])
    per_prov = div.groupby(["province", "level"])["covered"].agg(["size", "sum"])
    out = {("", int(lv)): (int(r["size"]), int(r["sum"])) for lv, r in country.iterrows()}
    out.update({(p, int(lv)): (int(r["size"]), int(r["sum"])) for (p, lv), r in per_prov.iterrows()})
    return out


def cloudctl_rollup(store: Store, as_of: date) -> dict[tuple[str, int], tuple[int, int]]:
    s = rollup_by_child(store, as_of)
    out = {("", LEVELS.index(lv.level) + 1): (lv.total, lv.covered) for lv in s.levels}
    for c in s.children or []:
        out.update({(c.code, LEVELS.index(lv.level) + 1): (lv.total, lv.covered) for lv in c.levels})
    return out


def best(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Best wall time and best CPU time of `repeat` runs (CPU time: less skewed on a busy machine)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return min(walls), min(cpus), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=os.environ.get("CLOUDCTL_BENCH_DB", "/tmp/cloudctl-bench/rollup.sqlite3"))
    ap.add_argument("--divisions", default=os.environ.get("CLOUDCTL_DIVISIONS_DIR",
                                                          str(REPO.parent / "shared" / "data" / "divisions")))
    ap.add_argument("--links", type=int, default=250_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    store = open_store(f"sqlite:///{Path(args.db).resolve()}")
    if count(store, "division") < 600_000:
        t = time.perf_counter()
        load_divisions(store, Path(args.divisions))
        print(f"loaded {count(store, 'division'):,} divisions in {time.perf_counter() - t:.1f} s")
    if count(store, "link") < args.links:
        t = time.perf_counter()
        links = synthetic_links(store, args.links)
        with store.begin() as conn:
            upsert_links(conn, links, ACTOR, source="benchmark")
        print(f"upserted {len(links):,} links in {time.perf_counter() - t:.1f} s")
    print(f"store: {args.db}: {count(store, 'division'):,} divisions, {count(store, 'link'):,} links; "
          f"as of {AS_OF}; country + every province, all five levels")

    def cold():  # type: ignore[no-untyped-def]
        arrays_module.clear_cache()
        for f in Path(args.db).parent.glob(Path(args.db).name + ".cache/division-arrays-*"):
            f.unlink()
        return cloudctl_rollup(store, AS_OF)

    t_pandas, c_pandas, ref = best(lambda: pandas_baseline(store, AS_OF), args.repeat)
    t_cold, c_cold, got_cold = best(cold, args.repeat)
    cloudctl_rollup(store, AS_OF)  # fill the caches
    t_warm, c_warm, got_warm = best(lambda: cloudctl_rollup(store, AS_OF), args.repeat)
    t_disk, c_disk, _ = best(lambda: (arrays_module.clear_cache(), cloudctl_rollup(store, AS_OF))[1], args.repeat)
    assert got_cold == ref and got_warm == ref, "cloudctl and pandas disagree"
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; best of {args.repeat}")
    print(f"{'':40s} {'wall ms':>9s} {'cpu ms':>9s}   pandas/cloudctl (wall, cpu)")
    print(f"{'pandas baseline (read_sql + groupby)':40s} {t_pandas * 1000:9.1f} {c_pandas * 1000:9.1f}")
    for label, t, c in (("cloudctl, no cache (reads divisions)", t_cold, c_cold),
                        ("cloudctl, .npy cache (new process)", t_disk, c_disk),
                        ("cloudctl, in-process cache", t_warm, c_warm)):
        print(f"{label:40s} {t * 1000:9.1f} {c * 1000:9.1f}   {t_pandas / t:5.1f}x {c_pandas / c:5.1f}x")
    print(f"results identical for {len(ref)} (region, level) cells")
    print("goal (< 1 s, at least as fast as pandas): no cache", "met" if t_cold < 1.0 and t_cold <= t_pandas
          else "NOT met", "| with the generation-keyed cache", "met" if t_disk < 1.0 and t_disk <= t_pandas
          else "NOT met")

if __name__ == "__main__":
    main()
