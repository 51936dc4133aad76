"""Benchmark: every bomb of the fuzz corpus (tests/fuzz/corpus.yaml, `bomb: true`) is refused
in under 0.1 s and 50 MB (issue 11), against PyYAML's safe_load on the same alias bombs.

For each bomb, in this process: the time from opening the file to the refusal, and the peak
memory the refusal allocated (tracemalloc); then the whole command as a user runs it
(`python -m cloudctl ...` in a subprocess: wall time and peak RSS, start-up included, next to
the same command on a valid input). The baseline: `yaml.safe_load` and a walk over the result
(what a validator does) on each YAML alias bomb, in a subprocess limited to 1 GiB and 20 s.

    python3 benchmarks/fuzz_corpus.py [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloudctl.errors import InputError  # noqa: E402
from cloudctl.inputs.documents import load_document  # noqa: E402
from tests.fuzz.test_corpus import CASES, CASES_DIR, SURFACES, expand, materialise  # noqa: E402

GOAL_SECONDS, GOAL_BYTES = 0.1, 50 * 1024 * 1024
BASELINE = """
import resource, sys, time, yaml
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
t = time.perf_counter()
try:
    data = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    todo, nodes = [data], 0
    while todo:
        node = todo.pop(); nodes += 1
        if time.perf_counter() - t > 20:
            print("timeout", nodes); sys.exit(0)
        todo.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
    print("accepted", nodes)
except MemoryError:
    print("MemoryError")
print(f"{time.perf_counter() - t:.3f}s", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MB")
"""


def in_process(case: dict, tmp: Path) -> tuple[float, int, str]:
    """(seconds, peak bytes, message) of refusing the case's file with the loader it meets."""
    from cloudctl.inputs.csvfiles import read_csv

    path = materialise(case, tmp)
    reader = read_csv if case["surface"] in ("division-csv", "link-csv") else load_document
    tracemalloc.start()
    start = time.perf_counter()
    try:
        reader(path)
        message = "ACCEPTED"
    except InputError as e:
        message = e.render().splitlines()[0]
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, message


def whole_command(argv: list[str], db: str) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, exit code) of `python -m cloudctl ARGV`. The peak is measured by
    /usr/bin/time around it: a child forked from this (large) process would report our size."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, sys.executable, "-m", "cloudctl",
                               "--db", db, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
        wall = time.perf_counter() - start
        return wall, int(rss.read().strip().splitlines()[-1]), proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip PyYAML on the alias bombs")
    args = parser.parse_args()
    bombs = [c for c in CASES if c.get("bomb") and not (c.get("pending") or SURFACES[c["surface"]].get("pending"))]
    print(f"load average {os.getloadavg()[0]:.2f}; {len(bombs)} bombs; goal: refused in < {GOAL_SECONDS} s "
          f"and < {GOAL_BYTES >> 20} MB")
    with tempfile.TemporaryDirectory(prefix="ccin-fuzz-bench-") as tmp_name:
        tmp = Path(tmp_name)
        db = f"sqlite:///{tmp / 'store.sqlite3'}"
        from cloudctl.store import open_store

        open_store(db).dispose()
        valid = ["gateway", "check", str(CASES_DIR / "gateway" / "valid-lab.yaml")]
        base_wall, base_rss, _ = min(whole_command(valid, db) for _ in range(3))
        print(f"\n{'case':48} {'refused in':>10} {'peak':>9} | {'command':>8} {'max RSS':>8}  first line")
        worst_alias = (0.0, 0)
        for case in bombs:
            seconds, peak, message = min(in_process(case, tmp) for _ in range(3))
            out = tmp / "out"
            out.mkdir(exist_ok=True)
            argv = expand(case.get("argv") or SURFACES[case["surface"]]["argv"], materialise(case, tmp), out)
            wall, rss, code = whole_command(argv, db)
            name = f"{case['surface']}:{Path(case['file']).name}"
            print(f"{name:48} {seconds * 1000:8.2f}ms {peak / 2**20:7.2f}MB | {wall:7.3f}s {rss / 1024:6.0f}MB"
                  f"  exit {code}: {message[-70:]}")
            if not case["file"].endswith(".gz"):
                worst_alias = (max(worst_alias[0], seconds), max(worst_alias[1], peak))
        print(f"\nwhole command on the valid lab policy (start-up, for comparison): {base_wall:.3f}s, "
              f"{base_rss / 1024:.0f}MB max RSS")
        ok = worst_alias[0] < GOAL_SECONDS and worst_alias[1] < GOAL_BYTES
        print(f"alias bombs, worst: refused in {worst_alias[0] * 1000:.2f} ms, peak {worst_alias[1] / 2**20:.2f} MB "
              f"-> {'met' if ok else 'NOT met'}")
        if args.no_baseline:
            return
        print("\nbaseline: PyYAML safe_load + a walk, 1 GiB address space, 20 s")
        for case in bombs:
            if not case["file"].endswith((".yaml", ".yml")):
                continue
            path = materialise(case, tmp)
            start = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", BASELINE, str(path)], capture_output=True, text=True,
                               timeout=120)
            wall = time.perf_counter() - start
            err = r.stderr.strip().splitlines()
            last = (r.stdout.strip() or (err[-1] if err else f"exit {r.returncode}")).replace("\n", "; ")
            print(f"{case['surface'] + ':' + Path(case['file']).name:48} {wall:7.2f}s  {last[:90]}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
