"""Benchmark: the coverage report with maps, country + all 31 provinces (issue 13's goals).

Goals: the report with maps for the country and all 31 provinces is written in under 10 s (the
whole command as a user types it); the national page stays under 3 MB.

In one run:
  1. set-up (not timed): `cloudctl demo --as-of 2015-05-31` on an empty temporary SQLite store;
  2. the whole command, N times: `cloudctl --db URL coverage report --as-of 2015-05-31 --out DIR`
     (index.html with the national map, provinces/NN.html with prefecture and county maps);
  3. the same command with the maps left out (baseline: the report as it was before maps,
     by running it with the map data hidden), for the maps' share of the time;
  4. in-process breakdown: reading the shipped geometry, rendering every map of the report;
  5. page sizes: the national page, the largest province page, all pages.

  python3 benchmarks/report_maps.py [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
AS_OF = "2015-05-31"
NO_MAPS = ("import sys, runpy; import cloudctl.coverage.report.maps as m; "
           "m.china_map = lambda: None; m.province_map = lambda code: None; "
           "sys.argv = ['cloudctl'] + sys.argv[1:]; runpy.run_module('cloudctl', run_name='__main__')")


def run(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the store and the report here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cloudctl-maps-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'demo.sqlite3'}"
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    setup = run([sys.executable, "-m", "cloudctl", "--db", url, "demo", "--as-of", AS_OF, "--out", str(work / "demo")],
                work)
    print(f"set-up: cloudctl demo --as-of {AS_OF}: {setup:.1f} s")
    out = work / "report"
    command = [sys.executable, "-m", "cloudctl", "--db", url, "coverage", "report", "--as-of", AS_OF, "--out", str(out)]
    with_maps, without = [], []
    for _ in range(args.repeat):
        with_maps.append(run(command, work))
        without.append(run([sys.executable, "-c", NO_MAPS, *command[3:-1], str(work / "no-maps")], work))
    print(f"\n$ cloudctl --db URL coverage report --as-of {AS_OF} --out DIR     (median of {args.repeat})")
    print(f"  with maps (country + 31 provinces)   {statistics.median(with_maps):6.2f} s   goal < 10 s  "
          f"runs: {', '.join(f'{t:.2f}' for t in with_maps)}")
    print(f"  baseline, same command without maps  {statistics.median(without):6.2f} s   "
          f"maps add {statistics.median(with_maps) - statistics.median(without):.2f} s "
          f"({statistics.median(with_maps) / statistics.median(without):.2f}x the baseline)")
    in_process(out, url)
    national = (out / "index.html").stat().st_size
    pages = sorted((out / "provinces").glob("*.html"), key=lambda p: p.stat().st_size)
    total = national + sum(p.stat().st_size for p in pages)
    print("\npage sizes")
    print(f"  index.html (national map)            {national / 1e6:6.2f} MB   goal < 3 MB")
    print(f"  largest province page ({pages[-1].name})       {pages[-1].stat().st_size / 1e6:6.2f} MB")
    print(f"  all 32 pages                         {total / 1e6:6.2f} MB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.keep:
        shutil.rmtree(work)
    return 0


def in_process(out: Path, url: str) -> None:
    """Reading the shipped geometry and rendering every map; writing the files with and without maps."""
    from datetime import date

    from cloudctl.coverage.maps import geometry
    from cloudctl.coverage.report import ReportOptions, build_report, write_report
    from cloudctl.coverage.report import maps as report_maps
    from cloudctl.coverage.report.maps import index_maps, page_maps
    from cloudctl.store import open_store

    data = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    geometry.china_map()
    for code in (c["code"] for c in data["children"]):
        geometry.province_map(code)
    read = time.perf_counter() - started
    started = time.perf_counter()
    plans = index_maps(data) + [p for page in data["drilldown"] for p in page_maps(data, page)]
    svg = sum(len(p.render().svg) for p in plans)
    render = time.perf_counter() - started
    print("\nin process")
    print(f"  read the shipped geometry (32 maps)  {read * 1000:6.0f} ms")
    print(f"  render {len(plans)} maps ({svg / 1e6:.1f} MB of SVG)     {render * 1000:6.0f} ms")
    store = open_store(url)
    started = time.perf_counter()
    report = build_report(store, ReportOptions(as_of=date.fromisoformat(AS_OF)))
    print(f"  build_report (figures, plan, maps)   {(time.perf_counter() - started) * 1000:6.0f} ms")
    store.dispose()
    started = time.perf_counter()
    write_report(report, out.parent / "in-process")
    with_maps = time.perf_counter() - started
    saved = report_maps.china_map, report_maps.province_map
    report_maps.china_map, report_maps.province_map = (lambda: None), (lambda code: None)
    started = time.perf_counter()
    write_report(report, out.parent / "in-process-no-maps")
    without = time.perf_counter() - started
    report_maps.china_map, report_maps.province_map = saved
    print(f"  write_report, 32 pages with maps     {with_maps * 1000:6.0f} ms   "
          f"without maps {without * 1000:.0f} ms (+{(with_maps - without) * 1000:.0f} ms)")


if __name__ == "__main__":
    sys.exit(main())
