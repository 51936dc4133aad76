"""Best-fit choice over integer ranges (cloudctl.ipam.space) vs. the same choice with netaddr IPSet.

Both pick the same block (checked); the figure is how much faster the integer-range path is
when a pool already holds N allocations. Run: python3 benchmarks/ipam_bestfit.py [N]
"""

from __future__ import annotations

import sys
import time

from netaddr import IPNetwork, IPSet

from cloudctl.ipam.space import best_fit, block_from_canonical, free_blocks, parse_block

LENGTHS = (24, 26, 28, 25, 27)


def baseline(pool: str, used: list[str], length: int) -> str | None:
    free = IPSet([pool]) - IPSet(used)
    fits = [c for c in free.iter_cidrs() if c.prefixlen <= length]
    if not fits:
        return None
    best = min(fits, key=lambda c: (-c.prefixlen, c.first))
    return str(IPNetwork((best.first, length), version=best.version))


def cloudctl_way(pool: str, used: list[str], length: int) -> str | None:
    got = best_fit(free_blocks(parse_block(pool), [block_from_canonical(u) for u in used]), length)
    return got.cidr if got else None


def run(fn, pool: str, n: int, lengths: tuple[int, ...]) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    used: list[str] = []
    t = time.perf_counter()
    for i in range(n):
        got = fn(pool, used, lengths[i % len(lengths)])
        assert got is not None
        used.append(got)
    return time.perf_counter() - t, used


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    for pool, lengths in (("10.64.0.0/12", LENGTHS), ("2001:db8::/32", tuple(x + 24 for x in LENGTHS))):
        base_t, base_used = run(baseline, pool, n, lengths)
        ours_t, ours_used = run(cloudctl_way, pool, n, lengths)
        assert base_used == ours_used, "both must make the same choices"
        print(f"{pool}: {n} successive best-fit allocations  netaddr IPSet {base_t:.3f}s  "
              f"cloudctl integer ranges {ours_t:.3f}s  ratio {base_t / ours_t:.1f}x")


if __name__ == "__main__":
    main()
