"""Benchmark (issue 13): `cloudctl coverage availability --from D1 --to D2 --level township --worst N
--format json` for the country, 41,352 township links with 30 days of state changes (about 10 per
link), whole process as a user types it, against a pandas computation from an export of the
intervals (benchmarks/availability_pandas_baseline.py), in one run.

Set-up (reused while its inputs are unchanged):
  - `cloudctl init` (the shipped divisions, provinces to townships) into a SQLite store;
  - one link per township (41,352), activated 2020-01-01; 1 % activated and 1 % retired inside
    the period (so spans are cut), imported with `cloudctl links import`;
  - per link a deterministic history from two days before the period to a day after it: up for
    Exp(5.5 d), down for Exp(2 h), and after 5 % of the reports a silence of Exp(3 h) before the
    next one; the rows are what the ingest writes (cloudctl.availability.intervals.chain, the
    function api/ingest.py uses), inserted in bulk with the links' status rows;
  - the export the baseline reads: `cloudctl coverage intervals --from D1 --to D2 --format csv`.
Then P pairs (baseline, cloudctl; the order alternates), both child processes of this interpreter;
every pair's figures must agree. Prints the headline (median over median, whole process), the
in-process breakdown of both beside it, and `cloudctl --help`'s whole-process time (goal < 0.1 s).

  python3 benchmarks/availability_cli.py [--shared DIR] [--work DIR] [--pairs P] [--worst N]
Env: CLOUDCTL_SHARED, CLOUDCTL_BENCH_WORK (default /tmp/cloudctl-bench/availability-cli).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BASELINE = Path(__file__).with_name("availability_pandas_baseline.py")
ZONE = "Asia/Shanghai"
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
DAY_MS = 86_400_000

from benchmarks.rollup_cli import cloudctl_command, default_shared, print_breakdown  # noqa: E402


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["CLOUDCTL_TZ"] = ZONE
    for name in ("CLOUDCTL_DB", "CLOUDCTL_DEBUG", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


CPU: list[float] = []  # the CPU seconds (user + system) of each run, in order


def run(cmd: list[str], *, stdout: object = subprocess.PIPE) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=child_env(), timeout=1800)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return wall, r.stdout if isinstance(r.stdout, str) else ""


def day_ms(day: date) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return round(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(ZONE)).timestamp() * 1000)


def write_links(divisions: Path, out: Path, rng: random.Random) -> list[tuple[str, str]]:
    with gzip.open(divisions / "streets.csv.gz", "rt", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        next(rows)
        towns = [r[0] for r in rows]
    links = [(f"TL{i:06d}", code) for i, code in enumerate(towns)]
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["link_id", "division_code", "link_type", "bandwidth_mbps", "activated_on", "retired_on",
                    "provider"])
        for link_id, code in links:
            draw = rng.random()
            activated = FIRST + timedelta(days=rng.randrange(1, 30)) if draw < 0.01 else date(2020, 1, 1)
            retired = FIRST + timedelta(days=rng.randrange(1, 30)) if 0.01 <= draw < 0.02 else None
            w.writerow([link_id, code, "fiber", 100, activated.isoformat(), retired.isoformat() if retired else "", ""])
    return links


def write_history(db: Path, links: list[tuple[str, str]], rng: random.Random) -> int:
    """Each link's state history through the ingest's own chain(), bulk-inserted with its status row."""
    from cloudctl.availability.intervals import StateEvent, chain

    start, stop = day_ms(FIRST) - 2 * DAY_MS, day_ms(LAST) + 2 * DAY_MS
    rows, status = [], []
    for link_id, code in links:
        t, up, events = start + rng.randrange(DAY_MS), 1, []
        silent_since = None
        while t < stop:
            events.append(StateEvent(link_id, t, up, silent_since))
            held = rng.expovariate(1 / (5.5 * DAY_MS if up else 2 * 3_600_000))
            silent_since = None
            if rng.random() < 0.05:  # the agent falls silent for a while before the next report
                silent_since = t + int(held * rng.random()) + 1
                t = silent_since + int(rng.expovariate(1 / (3 * 3_600_000))) + 1
            else:
                t += int(held) + 1
            up = 1 - up
        chained = chain(events, {})
        rows += [(r.link_id, r.start_ms, r.up, r.cum_up_ms, r.cum_down_ms, r.cum_outages) for r in chained]
        last = events[-1]
        status.append((link_id, code, "bench", last.up, stop / 1000, last.at_ms / 1000, stop / 1000 + 45))
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM link_interval")
        con.execute("DELETE FROM link_status")
        con.executemany("INSERT INTO link_interval (link_id, start_ms, up, cum_up_ms, cum_down_ms, cum_outages) "
                        "VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT INTO link_status (link_id, division_code, agent_id, up, checked_ts, changed_ts, "
                        "known_until_ts) VALUES (?, ?, ?, ?, ?, ?, ?)", status)
    con.close()
    return len(rows)


def prepare(args: argparse.Namespace, divisions: Path, work: Path) -> tuple[str, Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    db, links_csv, export = work / "store.sqlite3", work / "links.csv", work / "intervals.csv"
    stamp = work / "ready"
    inputs = json.dumps({"divisions": str(divisions), "from": FIRST.isoformat(), "to": LAST.isoformat(),
                         "generator": 1})
    url = f"sqlite:///{db}"
    if stamp.exists() and stamp.read_text() == inputs and db.exists() and export.exists():
        return url, links_csv, export
    for old in (db, stamp, export):
        old.unlink(missing_ok=True)
    rng = random.Random(20261101)
    cli = cloudctl_command()
    links = write_links(divisions, links_csv, rng)
    for step in (["init", "--format", "json"], ["links", "import", str(links_csv)]):
        wall, _ = run([*cli, "--db", url, *step])
        print(f"set-up: cloudctl {' '.join(step[:2])} ... {wall:.1f} s", flush=True)
    t = time.perf_counter()
    n = write_history(db, links, rng)
    print(f"set-up: {n:,} interval rows for {len(links):,} links in {time.perf_counter() - t:.1f} s "
          f"({(n - len(links)) / len(links):.1f} state changes per link)", flush=True)
    with open(export, "w", encoding="utf-8") as fh:
        wall, _ = run([*cli, "--db", url, "coverage", "intervals", "--from", FIRST.isoformat(), "--to",
                       LAST.isoformat(), "--format", "csv"], stdout=fh)
    print(f"set-up: cloudctl coverage intervals (the export) ... {wall:.1f} s, "
          f"{export.stat().st_size / 1e6:.1f} MB", flush=True)
    stamp.write_text(inputs)
    return url, links_csv, export


def comparable(output: str) -> dict[str, object]:
    """The figures of an availability JSON, floats rounded to the millisecond."""
    data = json.loads(output)

    def clean(row: dict[str, object]) -> dict[str, object]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()
                if k not in ("level",) or "code" in row}

    return {"total": clean(data["total"]), "levels": [clean(r) for r in data["levels"]],
            "divisions": [clean(r) for r in data["divisions"]],
            "links": [{**clean(r), "outage_intervals": r.get("outage_intervals")} for r in data["links"]]}


CLOUDCTL_PHASES = """
import sys, time, json
t = [time.perf_counter()]
from cloudctl.cli.main import cli                                  # click, the root group
t.append(time.perf_counter())
import cloudctl.cli.coverage_availability                          # the command's module
from cloudctl.availability import query, period
from cloudctl.store import open_store
from cloudctl import clock
from datetime import date
t.append(time.perf_counter())
store = open_store(sys.argv[1], create=False)                      # exists? schema current?
c = clock.configure(sys.argv[4])
p = period.period_of(date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3]), c)
t.append(time.perf_counter())
r = query.read_availability(store, p, level="township", worst=int(sys.argv[5]))
t.append(time.perf_counter())
text = json.dumps(r.to_json(), ensure_ascii=False, indent=2)
t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
CLOUDCTL_LABELS = ("import click + cloudctl.cli.main", "import the command's modules",
                   "open the store, the period", "the query (look-ups, sums, roll-ups)", "render JSON")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("CLOUDCTL_BENCH_WORK",
                                                                     "/tmp/cloudctl-bench/availability-cli")))
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--worst", type=int, default=20)
    args = ap.parse_args()
    divisions = args.shared / "data" / "divisions"
    if not (divisions / "streets.csv.gz").is_file():
        sys.exit(f"the official division files are not in {divisions} (--shared DIR or CLOUDCTL_SHARED)")
    url, links_csv, export = prepare(args, divisions, args.work)
    cli = cloudctl_command()
    span = ["--from", FIRST.isoformat(), "--to", LAST.isoformat()]
    ours = [*cli, "--db", url, "coverage", "availability", *span, "--level", "township", "--worst", str(args.worst),
            "--format", "json"]
    theirs = [sys.executable, str(BASELINE), str(export), str(links_csv), str(divisions), FIRST.isoformat(),
              LAST.isoformat(), "--zone", ZONE, "--level", "township", "--worst", str(args.worst)]
    run(ours)  # a first run fills the OS page cache for both sides' files alike
    run(theirs)

    load = os.getloadavg()
    t_ours, t_theirs, c_ours, c_theirs = [], [], [], []
    for i in range(args.pairs):
        order = (("theirs", theirs), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("theirs", theirs))
        outputs = {}
        for who, cmd in order:
            wall, out = run(cmd)
            (t_ours if who == "ours" else t_theirs).append(wall)
            (c_ours if who == "ours" else c_theirs).append(CPU[-1])
            outputs[who] = comparable(out)
        if outputs["ours"] != outputs["theirs"]:
            a, b = outputs["ours"], outputs["theirs"]
            diff = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
            sys.exit("cloudctl and the pandas baseline disagree (cloudctl, pandas):\n"
                     + json.dumps(diff, ensure_ascii=False)[:3000])
    helps = [run([*cli, "--help"])[0] for _ in range(args.pairs)]
    starts = [run([sys.executable, "-c", "pass"])[0] for _ in range(args.pairs)]
    ours_phases = [statistics.median(col) for col in zip(*[
        json.loads(run([sys.executable, "-c", CLOUDCTL_PHASES, url, FIRST.isoformat(), LAST.isoformat(), ZONE,
                        str(args.worst)])[1].strip().splitlines()[-1]) for _ in range(3)], strict=True)]
    theirs_runs = []
    for _ in range(3):
        r = subprocess.run([*theirs, "--timings"], capture_output=True, text=True, env=child_env(), timeout=900)
        theirs_runs.append(json.loads(r.stderr.strip().splitlines()[-1]))
    theirs_phases = {k: statistics.median(r[k] for r in theirs_runs) for k in theirs_runs[0]}

    m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
    ratios = [b / a for a, b in zip(t_ours, t_theirs, strict=True)]
    with open(export, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    print(f"\nstore {url}: 41,352 township links; {FIRST} to {LAST} ({ZONE}); export {rows:,} intervals; "
          f"--worst {args.worst}; the figures identical in every pair")
    print(f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} cores; "
          f"{args.pairs} pairs; cloudctl = {cli[0]}")
    print(f"\nHEADLINE whole process: pandas {m_theirs * 1000:.0f} ms / cloudctl {m_ours * 1000:.0f} ms "
          f"= {m_theirs / m_ours:.1f}x (median of {args.pairs} pairs; per-pair ratios {min(ratios):.1f}-"
          f"{max(ratios):.1f}x, median {statistics.median(ratios):.1f}x); goal >= 5x: "
          + ("met" if m_theirs / m_ours >= 5 else "NOT met"))
    cpu_ours, cpu_theirs = statistics.median(c_ours), statistics.median(c_theirs)
    print(f"  CPU time (user + system) of the same runs: pandas {cpu_theirs * 1000:.0f} ms / cloudctl "
          f"{cpu_ours * 1000:.0f} ms = {cpu_theirs / cpu_ours:.1f}x (medians; wall time on a shared machine also "
          "counts waiting for a core)")
    print(f"  cloudctl --help: {statistics.median(helps) * 1000:.0f} ms median (goal < 100 ms: "
          + ("met" if statistics.median(helps) < 0.1 else "NOT met") + ")")
    print(f"  interpreter start-up alone (python -c pass): {statistics.median(starts) * 1000:.0f} ms median")
    print("\nin-process breakdown, median of 3 fresh processes, ms (interpreter start-up comes on top of both):")
    print_breakdown(CLOUDCTL_LABELS, ours_phases, theirs_phases)


if __name__ == "__main__":
    main()
