"""Benchmark: `cloudctl demo` from an empty SQLite store, and the report's roll-ups.

Times, in this one run:
  - the demo's phases on an empty store (shipped divisions, history generation, bulk upsert of
    ~36k links, targets, report build, report files) and a second, idempotent run;
  - the report's figures (country, 31 provinces, 342 prefectures, each with its children) built
    from one read of the store (CoverageSource: the core's pure `summarise`) against the baseline
    of one `rollup_coverage` call per region; checks both give the same numbers, prints the ratio.
Target (issue 2 brief): the whole demo under 20 s.

  python3 benchmarks/report_demo.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cloudctl.audit import Actor  # noqa: E402
from cloudctl.coverage import demo  # noqa: E402
from cloudctl.coverage.report import ReportOptions, build_report, write_report  # noqa: E402
from cloudctl.coverage.report.sources import CoverageSource  # noqa: E402
from cloudctl.coverage.rollup import rollup_coverage  # noqa: E402
from cloudctl.divisions.shipped import load_shipped_divisions  # noqa: E402
from cloudctl.store import open_store  # noqa: E402

ACTOR = Actor("benchmark", "benchmarks/report_demo.py")


class Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        took, self.last = now - self.last, now
        print(f"  {name:<38} {took:7.2f} s")
        return took


def demo_phases(url: str, out: Path, today: date) -> float:
    store = open_store(url)
    clock = Clock()
    load_shipped_divisions(store, ACTOR)
    clock.lap("shipped divisions (44,703)")
    codes, kinds = demo.read_division_columns(store)
    links = demo.generate_link_history(codes, kinds, today=today)
    clock.lap(f"generate history ({len(links):,} links)")
    demo.store_demo_links(store, links, ACTOR)
    clock.lap("bulk upsert of the links")
    demo.set_demo_targets(store, ACTOR)
    data = build_report(store, ReportOptions(as_of=today))
    clock.lap("report figures (build_report)")
    write_report(data, out)
    clock.lap(f"report files ({sum(1 for _ in out.rglob('*.*'))})")
    store.dispose()
    return time.perf_counter() - clock.start


def naive_figures(store, as_of: date) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The baseline: one rollup_coverage per region, as a report written without CoverageSource would."""
    out = []
    country = rollup_coverage(store, as_of, by_child=True)
    for province in country.children or []:
        p = rollup_coverage(store, as_of, province.code, by_child=True)
        for pref in p.children or []:
            below = rollup_coverage(store, as_of, pref.code, by_child=True)
            out += [(c.code, lv.level, lv.total, lv.covered) for c in below.children or [] for lv in c.levels]
    return sorted(out)


def source_figures(store, as_of: date) -> list[tuple]:  # type: ignore[no-untyped-def]
    source = CoverageSource(store, as_of)
    out = []
    for province in source.rollup(None, by_child=True).children or []:
        for pref in source.rollup(province.code, by_child=True).children or []:
            below = source.rollup(pref.code, by_child=True)
            out += [(c.code, lv.level, lv.total, lv.covered) for c in below.children or [] for lv in c.levels]
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Work in this directory and keep it.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cloudctl-bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "demo.sqlite3"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    today = date.today()
    print(f"demo on an empty store ({db}):")
    first = demo_phases(url, work / "report", today)
    print(f"  {'total':<38} {first:7.2f} s   (target < 20 s)")
    print("demo again (idempotent):")
    second = demo_phases(url, work / "report", today)
    print(f"  {'total':<38} {second:7.2f} s")

    store = open_store(url)
    as_of = demo.SNAPSHOT
    t0 = time.perf_counter()
    baseline = naive_figures(store, as_of)
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = source_figures(store, as_of)
    t_ours = time.perf_counter() - t0
    store.dispose()
    assert ours == baseline, "the two ways disagree"
    print(f"drill-down figures ({len(ours):,} county figures under 374 regions), as of {as_of}:")
    print(f"  baseline: rollup_coverage per region   {t_base:7.2f} s")
    print(f"  cloudctl: CoverageSource (one read)     {t_ours:7.2f} s")
    print(f"  ratio baseline / cloudctl              {t_base / t_ours:7.1f} x")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
