"""Benchmark: what data shares cost the gateway compile (issue 14 sets no figure; this checks that
the 5,000-publication compile of benchmarks/gateway_5000.py did not regress).

In one run, alternating, best of --repeat, the whole command as a user types it
(`python -m cloudctl gateway compile policy.yaml -o ruleset.nft --at DATE`):

1. the cloudctl of git revision --base (default: the commit before shares) on the 5,000-publication
   synthetic policy, against this tree's cloudctl on the same file: the ratio shows the cost of
   shares' code for a policy without any (goal: 1.0x, no regression);
2. this tree on the same policy plus --shares data shares (consumer departments' subnets to
   services, a tenth of them expired or revoked): what shares in a policy cost.

    python3 benchmarks/share_compile.py [--base 9d40cb2] [--shares 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from gateway_synth import synthetic_policy

ROOT = Path(__file__).resolve().parents[1]
AT = dt.date(2026, 11, 28)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def run(argv: list[str], pythonpath: Path, cwd: Path) -> tuple[float, float]:
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONPATH": str(pythonpath)}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def with_shares(data: dict, count: int, seed: int = 14) -> dict:
    """The policy plus COUNT shares: departments with dedicated subnets consume other departments' services."""
    rnd = random.Random(seed)
    depts = [d for d in data["departments"] if d.get("subnets")]
    out = []
    for i in range(count):
        consumer = rnd.choice(depts)
        service = rnd.choice([s for s in data["services"] if s["department"] != consumer["name"]])
        share = {"id": i + 1, "service": service["name"], "consumer": consumer["name"],
                 "until": (AT + dt.timedelta(days=rnd.randint(-30, 700))).isoformat(),
                 "resource": f"r{i}", "owner": service["department"]}
        if rnd.random() < 0.05:
            share["revoked"] = (AT - dt.timedelta(days=1)).isoformat()
        out.append(share)
    return {**data, "shares": out}


def base_tree(rev: str, into: Path) -> Path:
    """The cloudctl package of REV, extracted (no checkout, no worktree)."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "cloudctl"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="9d40cb2", help="git revision before data shares")
    parser.add_argument("--publications", type=int, default=5000)
    parser.add_argument("--shares", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="share-bench-") as tmp_text:
        tmp = Path(tmp_text)
        base = base_tree(args.base, tmp / "base")
        data = synthetic_policy(args.publications)
        plain, shared = tmp / "policy.yaml", tmp / "policy-shares.yaml"
        plain.write_text(yaml.dump(data, Dumper=_NoAliases, sort_keys=False))
        shared.write_text(yaml.dump(with_shares(data, args.shares), Dumper=_NoAliases, sort_keys=False))

        def compile_argv(policy: Path, out: str) -> list[str]:
            return [sys.executable, "-m", "cloudctl", "gateway", "compile", str(policy), "-o", str(tmp / out),
                    "--at", AT.isoformat()]

        cases = {f"base {args.base}, no shares": (compile_argv(plain, "a.nft"), base),
                 "this tree, no shares": (compile_argv(plain, "b.nft"), ROOT),
                 f"this tree, {args.shares} shares": (compile_argv(shared, "c.nft"), ROOT)}
        for argv, path in cases.values():  # warm: byte-code caches, page cache
            run(argv, path, tmp)
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for name, (argv, path) in cases.items():
                wall, cpu = run(argv, path, tmp)
                best[name] = min(best.get(name, (wall, cpu)), (wall, cpu))
        same = (tmp / "a.nft").read_text() == (tmp / "b.nft").read_text()
        shared_text = (tmp / "c.nft").read_text()
    print(f"{args.publications} publications; best of {args.repeat}; identical rulesets without shares: {same}")
    print(f"{'command':40} {'wall s':>8} {'CPU s':>8}")
    for name, (wall, cpu) in best.items():
        print(f"{name:40} {wall:8.3f} {cpu:8.3f}")
    names = list(best)
    b, t, s = (best[n] for n in names)
    print(f"this tree / base, no shares: {t[0] / b[0]:.3f}x wall, {t[1] / b[1]:.3f}x CPU (1.0 = no regression)")
    elements = shared_text.count(' : "share_')
    print(f"with {args.shares} shares / without: {s[0] / t[0]:.3f}x wall, {s[1] / t[1]:.3f}x CPU "
          f"({elements} share map elements)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
