"""Benchmark: compile a 5,000-publication gateway policy to nftables, against Aerleon's aclgen.

Headline (issue 11): the whole command as a user runs it, side by side in one run:
`cloudctl gateway compile policy.yaml -o ruleset.nft` (start-up, YAML load, checks, compile,
write) against `aclgen` on the equivalent Aerleon policy and definitions (one nftables "mixed
forward" filter; start-up, YAML load, render, write). Best of --repeat runs each, wall and
CPU (the machine is shared: CPU is the steadier figure), and the ratio; goal >= 20x.

Beside it, in this process: cloudctl's load, check, analysis (exact shadow/redundancy/
conflicts) and compile, against Aerleon's `api.Generate` on the same policy as Python objects
and its shade check (`Policy._DetectShading`, what `shade_check=True` runs); goal >= 1000x
for the analysis against the shade check.

    python3 benchmarks/gateway_5000.py [--publications 5000] [--repeat 3] [--no-shade]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from gateway_synth import aerleon_equivalent, synthetic_policy

from cloudctl.gateway.analyze import analyze_policy
from cloudctl.gateway.check import check_policy
from cloudctl.gateway.compile import render
from cloudctl.gateway.policy import load_policy
from cloudctl.gateway.semantics import build_semantics

AT = dt.date(2026, 11, 28)
ROOT = Path(__file__).resolve().parents[1]


class _NoAliases(yaml.SafeDumper):
    """Write shared objects out in full: cloudctl refuses aliases beyond a small budget."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def run_command(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process and its children, exit code)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as users run it: .pyc cached
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**env, "PYTHONPATH": str(ROOT)})
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def whole_commands(data: dict, tmp: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) of `cloudctl gateway compile` and of `aclgen`, alternated."""
    from gateway_synth import aerleon_equivalent

    policy = tmp / "policy.yaml"
    policy.write_text(yaml.dump(data, Dumper=_NoAliases, sort_keys=False))
    aerleon_policy, definitions = aerleon_equivalent(data)
    for sub in ("policies/pol", "def", "out"):  # aclgen's default layout: ./policies/**/pol/*.yaml, ./def
        (tmp / sub).mkdir(parents=True)
    (tmp / "policies" / "pol" / "gw_bench.yaml").write_text(yaml.dump(
        {k: v for k, v in aerleon_policy.items() if k != "filename"}, Dumper=_NoAliases, sort_keys=False))
    (tmp / "def" / "networks.yaml").write_text(yaml.dump({"networks": definitions["networks"]}, Dumper=_NoAliases))
    (tmp / "def" / "services.yaml").write_text(yaml.dump({"services": definitions["services"]}, Dumper=_NoAliases))
    aclgen = shutil.which("aclgen")
    assert aclgen, "aclgen is not installed (pip install aerleon)"
    commands = {
        "cloudctl gateway compile": [sys.executable, "-m", "cloudctl", "gateway", "compile", str(policy),
                                     "-o", str(tmp / "ruleset.nft"), "--at", AT.isoformat()],
        "aclgen": [aclgen, "--output_directory", "out"],
    }
    for argv in commands.values():  # warm up: byte-code caches written, files in the page cache
        run_command(argv, tmp)
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for name, argv in commands.items():
            for old in (tmp / "out").glob("*"):
                old.unlink()
            wall, cpu, code = run_command(argv, tmp)
            assert code == 0, (name, code)
            best[name] = min(best.get(name, (wall, cpu)), (wall, cpu))
    assert (tmp / "ruleset.nft").stat().st_size > 100_000 and (tmp / "out" / "gw_bench.nft").stat().st_size > 100_000
    return best


def cold() -> None:
    """Forget parsed addresses and ports, so no run profits from the one before."""
    from cloudctl.gateway.netspace import parse_address, parse_port_spec

    parse_address.cache_clear()
    parse_port_spec.cache_clear()


def timed(fn, repeat: int = 1):  # type: ignore[no-untyped-def]
    """(result, best CPU seconds, wall seconds of that run); caches are cleared before each run."""
    best = None
    result = None
    for _ in range(repeat):
        cold()
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        if best is None or cpu < best[0]:
            best = (cpu, wall)
    assert best is not None
    return result, best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (the best counts)")
    parser.add_argument("--no-shade", action="store_true", help="skip Aerleon's (quadratic, minutes) shade check")
    args = parser.parse_args()
    data = synthetic_policy(args.publications)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="ccgw-bench-") as tmp:
        whole = whole_commands(data, Path(tmp), args.repeat)
        path = Path(tmp) / "policy.yaml"
        policy, load_cpu, load_wall = timed(lambda: load_policy(path, validate=False), args.repeat)
    (ours_wall, ours_cpu_w), (acl_wall, acl_cpu) = whole["cloudctl gateway compile"], whole["aclgen"]
    print(f"whole command, as a user runs it (best of {args.repeat}):")
    print(f"{'':40} {'wall s':>10} {'cpu s':>10}")
    for name, (wall, cpu) in whole.items():
        print(f"{name:40} {wall:10.3f} {cpu:10.3f}")
    print(f"ratio aclgen / cloudctl gateway compile: {acl_wall / ours_wall:8.1f}x wall  "
          f"{acl_cpu / ours_cpu_w:8.1f}x cpu   (goal >= 20x)\n")

    problems, check_cpu, check_wall = timed(lambda: check_policy(policy), args.repeat)
    assert not problems, problems[:3]

    def analysis():  # type: ignore[no-untyped-def]
        return analyze_policy(build_semantics(policy), AT)

    # The shade check runs on Aerleon's already built terms; the like for cloudctl is the analysis of
    # already expanded flows (build_semantics, the expansion, is timed apart and in the pipeline).
    sems = [build_semantics(policy) for _ in range(args.repeat)]
    _, analyze_only_cpu, analyze_only_wall = timed(lambda: analyze_policy(sems.pop(), AT), args.repeat)

    def compile_():  # type: ignore[no-untyped-def]
        return render(build_semantics(policy), AT)

    result, analyze_cpu, analyze_wall = timed(analysis, args.repeat)
    ruleset, compile_cpu, compile_wall = timed(compile_, args.repeat)

    def pipeline():  # type: ignore[no-untyped-def]
        check_policy(policy)
        sem = build_semantics(policy)
        analyze_policy(sem, AT)
        return render(sem, AT)

    _, ours_cpu, ours_wall = timed(pipeline, args.repeat)
    counts = {k: len(result.of_kind(k)) for k in ("shadowed", "redundant", "conflict", "expired", "expiring")}

    from aerleon import api
    from aerleon.lib import naming, policy_builder
    from aerleon.lib import policy as aerleon_policy

    logging.disable(logging.WARNING)  # Aerleon logs one line per expired or shaded term
    aerleon_pol, definitions = aerleon_equivalent(data)

    def generate():  # type: ignore[no-untyped-def]
        defs = naming.Naming()
        defs.ParseDefinitionsObject(definitions, "")
        return api.Generate([aerleon_pol], defs)

    out, gen_cpu, gen_wall = timed(generate)
    assert out and "gw_bench.nft" in out
    defs = naming.Naming()
    defs.ParseDefinitionsObject(definitions, "")
    built = aerleon_policy.FromBuilder(policy_builder.PolicyBuilder(aerleon_pol, defs, False, False))
    terms = built.filters[0][1]
    shade_cpu = shade_wall = float("nan")
    if not args.no_shade:
        _, shade_cpu, shade_wall = timed(lambda: built._DetectShading(terms))

    rows = [
        ("cloudctl load (YAML -> model)", load_cpu, load_wall),
        ("cloudctl check", check_cpu, check_wall),
        ("cloudctl analyze (incl. expansion)", analyze_cpu, analyze_wall),
        ("cloudctl analyze (expanded flows)", analyze_only_cpu, analyze_only_wall),
        ("cloudctl compile", compile_cpu, compile_wall),
        ("cloudctl check + analyze + compile", ours_cpu, ours_wall),
        ("aerleon Generate (nftables)", gen_cpu, gen_wall),
        ("aerleon shade check", shade_cpu, shade_wall),
    ]
    print(f"in this process: {args.publications} publications, {len(terms)} Aerleon terms, "
          f"{len(ruleset.splitlines())} ruleset lines; findings {counts}")
    print(f"{'step':40} {'cpu s':>10} {'wall s':>10}")
    for name, cpu, wall in rows:
        print(f"{name:40} {cpu:10.3f} {wall:10.3f}")
    print(f"ratio Generate / (check+analyze+compile), core only: {gen_cpu / ours_cpu:8.1f}x cpu  "
          f"{gen_wall / ours_wall:8.1f}x wall")
    print(f"ratio Generate / (load+check+analyze+compile): {gen_cpu / (ours_cpu + load_cpu):8.1f}x cpu")
    print(f"ratio shade check / analyze (expanded): {shade_cpu / analyze_only_cpu:8.1f}x cpu  "
          f"{shade_wall / analyze_only_wall:8.1f}x wall   (goal >= 1000x)")
    print(f"ratio shade check / analyze (incl. expansion): {shade_cpu / analyze_cpu:8.1f}x cpu")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
