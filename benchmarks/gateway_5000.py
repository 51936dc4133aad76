"""Benchmark: check + analyze + compile of a 5,000-publication gateway policy against Aerleon 1.18.

In one process run: cloudctl's check, analysis (exact shadow/redundancy/conflicts) and nftables
compile, then Aerleon's `aerleon.api.Generate` (nftables target, "mixed forward") on the
equivalent policy and Aerleon's shade check (`Policy._DetectShading`, what `shade_check=True`
runs) on the same terms. Prints both timings and the ratios. CPU time of this process is the
main figure (the machine is shared); wall time is printed too.

    python3 benchmarks/gateway_5000.py [--publications 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
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
    parser.add_argument("--repeat", type=int, default=3, help="cloudctl runs per step (best CPU time counts)")
    args = parser.parse_args()
    data = synthetic_policy(args.publications)
    with tempfile.TemporaryDirectory(prefix="ccgw-bench-") as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        policy, load_cpu, load_wall = timed(lambda: load_policy(path, validate=False), args.repeat)

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
    print(f"gateway benchmark: {args.publications} publications, {len(terms)} Aerleon terms, "
          f"{len(ruleset.splitlines())} ruleset lines; findings {counts}")
    print(f"{'step':40} {'cpu s':>10} {'wall s':>10}")
    for name, cpu, wall in rows:
        print(f"{name:40} {cpu:10.3f} {wall:10.3f}")
    print(f"ratio Generate / (check+analyze+compile): {gen_cpu / ours_cpu:8.1f}x cpu  "
          f"{gen_wall / ours_wall:8.1f}x wall   (goal >= 20x)")
    print(f"ratio Generate / (load+check+analyze+compile): {gen_cpu / (ours_cpu + load_cpu):8.1f}x cpu")
    print(f"ratio shade check / analyze (expanded): {shade_cpu / analyze_only_cpu:8.1f}x cpu  "
          f"{shade_wall / analyze_only_wall:8.1f}x wall   (goal >= 1000x)")
    print(f"ratio shade check / analyze (incl. expansion): {shade_cpu / analyze_cpu:8.1f}x cpu")


if __name__ == "__main__":
    main()
