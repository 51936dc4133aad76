"""The report's availability section as plain data (docs/availability.md, docs/reports.md): the links'
availability over the days ending on the report's date, per level, per child region with the
distribution of its townships over availability bands, the worst townships with their outages,
and the availability target of the region's townships.

`availability_json` shapes what CoverageSource.availability read (pure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

UNKNOWN_BAND = "unknown"


def bands_for(target: float | None) -> list[dict[str, Any]]:
    """Availability bands of a township, best first: from the target when there is one (meets it,
    within one point below, further below), else 99.5 % / 99 %; then nothing known."""
    if target is not None:
        low = max(target - 0.01, 0.0)
        bands = [("meets", f"≥ {target * 100:g} % (target)", target),
                 ("near", f"{low * 100:g} – {target * 100:g} %", low), ("below", f"< {low * 100:g} %", 0.0)]
    else:
        bands = [("high", "≥ 99.5 %", 0.995), ("mid", "99 – 99.5 %", 0.99), ("low", "< 99 %", 0.0)]
    return [{"key": k, "label": label, "min": lo} for k, label, lo in bands] + [
        {"key": UNKNOWN_BAND, "label": "nothing known", "min": None}]


def band_of(ratio: float | None, bands: Sequence[dict[str, Any]]) -> str:
    if ratio is None:
        return UNKNOWN_BAND
    return next(b["key"] for b in bands if b["min"] is not None and ratio >= b["min"] - 1e-12)


def availability_json(report: Any, worst: Sequence[tuple[Any, list[Any]]], child_codes: Sequence[tuple[str, str]],
                      days: int, target_region: str | None = None) -> dict[str, Any]:
    """report: read_availability of a region (or the country) at township level, every township; worst:
    (township, its links with their outage intervals) for the worst townships; child_codes: (code, name)
    of the region's children; target_region: the region the township target was set for (None: the
    country's target), shown on a province page that has no target of its own."""
    from cloudctl.availability.period import iso_ms

    target = next((t for t in report.targets if t.level == "township"), None)
    bands = bands_for(None if target is None else target.ratio)
    children: dict[str, dict[str, Any]] = {
        code: {"code": code, "name": name, "townships": 0, "links": 0, "span_ms": 0, "up_ms": 0, "down_ms": 0,
               "outages": 0, "bands": {b["key"]: 0 for b in bands}} for code, name in child_codes}
    prefix = len(child_codes[0][0]) if child_codes else 0
    for d in report.divisions:
        child = children.get(d.code[:prefix])
        if child is None:
            continue
        f = d.figures
        child["townships"] += 1
        child["bands"][band_of(f.ratio, bands)] += 1
        for key, value in (("links", f.links), ("span_ms", f.span_ms), ("up_ms", f.up_ms), ("down_ms", f.down_ms),
                           ("outages", f.outages)):
            child[key] += value
    return {
        "days": days, "region": report.region,
        "from": report.first.isoformat(), "to": report.last.isoformat(), "timezone": report.zone,
        "start": iso_ms(report.start_ms), "end": iso_ms(report.end_ms),
        "known": report.total.up_ms + report.total.down_ms > 0,
        "total": report.total.to_json(),
        "levels": [{"level": name, **f.to_json()} for name, f in report.levels],
        "target": None if target is None else {**target.to_json(), "region": target_region},
        "bands": bands,
        "children": [_child_json(c) for c in children.values() if c["links"]],
        "worst": [{"code": d.code, "name": d.name, **d.figures.to_json(),
                   "outage_intervals": sorted(({"link_id": lk.link_id, "start": iso_ms(o.start_ms),
                                                "end": iso_ms(o.end_ms), "seconds": (o.end_ms - o.start_ms) / 1000}
                                               for lk in links for o in lk.outages or []),
                                              key=lambda o: (o["start"], o["link_id"]))}
                  for d, links in worst],
    }


def _child_json(c: dict[str, Any]) -> dict[str, Any]:
    known = c["up_ms"] + c["down_ms"]
    mttr = c["down_ms"] / c["outages"] if c["outages"] else None
    return {"code": c["code"], "name": c["name"], "townships": c["townships"], "links": c["links"],
            "availability_ratio": round(c["up_ms"] / known, 6) if known else None,
            "downtime_seconds": c["down_ms"] / 1000, "unknown_seconds": (c["span_ms"] - known) / 1000,
            "observed_seconds": c["span_ms"] / 1000, "outages": c["outages"],
            "mttr_seconds": None if mttr is None else round(mttr / 1000, 3), "bands": c["bands"]}
