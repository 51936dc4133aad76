"""Which uncovered divisions to connect next: a documented, configurable score.

score = parent_covered x [the parent division is already covered]
      + western x [in one of the 12 Western Development provinces]
      + ethnic_autonomous x [an ancestor (or the division) is an autonomous region/prefecture/
                              county/banner]
      + ethnic_township x [the division (or, for a village, its township) is an ethnic township]
      + low_coverage x (1 - coverage of the division's county at the plan's level; for a
                        county or prefecture plan: of its parent)
The default weights make the terms count in that order (each outweighs all the ones after
it together), with the county's coverage gap as tie-breaker; ties are broken by code.
Every entry lists the terms that scored, in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from cloudctl.coverage.arrays import DivisionArrays, load_division_arrays
from cloudctl.coverage.model import LEVELS, PlanEntry, level_number
from cloudctl.coverage.rollup import active_link_keys, check_kinds, covered_mask, division_names, region_index
from cloudctl.errors import InputError
from cloudctl.store import Store

try:
    from cloudctl.divisions.kinds import ETHNIC_AUTONOMOUS_KINDS, ETHNIC_TOWNSHIP
except ImportError:  # pragma: no cover - the divisions capability ships these
    ETHNIC_AUTONOMOUS_KINDS = frozenset({"autonomous_region", "autonomous_prefecture", "autonomous_county",
                                         "autonomous_banner", "banner"})
    ETHNIC_TOWNSHIP = "ethnic_township"

# The 12 provinces of the Western Development programme (西部大开发).
WESTERN_PROVINCES: dict[str, str] = {
    "15": "内蒙古", "45": "广西", "50": "重庆", "51": "四川", "52": "贵州", "53": "云南",
    "54": "西藏", "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "parent_covered": 10.0,
    "western": 4.0,
    "ethnic_autonomous": 1.5,
    "ethnic_township": 1.5,
    "low_coverage": 0.9,
}


MAX_WEIGHT = 1000.0


def resolve_weights(overrides: Mapping[str, float] | None = None, file: str | Path | None = None) -> dict[str, float]:
    """Default weights, then a YAML file's mapping, then overrides; unknown names, values that
    are not finite numbers within +-MAX_WEIGHT are InputError (the file's at its line)."""
    from cloudctl.inputs.documents import Document, load_document

    weights = dict(DEFAULT_WEIGHTS)
    hint = "weights: " + ", ".join(DEFAULT_WEIGHTS)
    layers: list[tuple[Mapping[str, object], Document | None]] = []
    if file is not None:
        doc = load_document(file, what="weights file", hint="a YAML mapping NAME: VALUE (docs/coverage.md)")
        layers.append((doc.mapping("weights file", hint=hint), doc))
    layers.append((overrides or {}, None))
    for mapping, doc in layers:
        for name, value in mapping.items():
            if name not in DEFAULT_WEIGHTS:
                raise _weight_error(doc, name, f"unknown weight {name!r}", hint)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                    or abs(value) > MAX_WEIGHT:
                raise _weight_error(doc, name, f"weight {name!r} must be a number between {-MAX_WEIGHT:g} and "
                                               f"{MAX_WEIGHT:g}, got {str(value)[:40]!r}")
            weights[name] = float(value)
    return weights


def _weight_error(doc: Any, name: str, message: str, hint: str | None = None) -> InputError:
    """At the weight's line in the file, or on --weight."""
    if doc is not None:
        return doc.error((name,), message, hint=hint)
    return InputError(message, field="--weight", hint=hint)


@dataclass(frozen=True)
class ScoreTerms:
    """Per-candidate score terms, arrays aligned with candidates."""

    candidates: np.ndarray
    parent_covered: np.ndarray
    western: np.ndarray
    ethnic_area: np.ndarray  # index of the nearest ethnic-autonomous ancestor, -1 if none
    ethnic_township: np.ndarray
    area: np.ndarray  # index of the county (or parent) whose coverage counts
    area_total: np.ndarray
    area_covered: np.ndarray


def score_terms(arrays: DivisionArrays, covered: np.ndarray, level: int, region_idx: int,
                exclude_kinds: Sequence[str] = ()) -> ScoreTerms:
    """The raw terms for every uncovered division of the level in the region. Pure."""
    mask = (arrays.level == level) & ~covered
    if region_idx >= 0:
        mask &= arrays.anc[int(arrays.level[region_idx]) - 1] == region_idx
    if exclude_kinds:
        mask &= ~arrays.kind_mask(exclude_kinds)
    cand = np.flatnonzero(mask)
    n = len(cand)
    parent = arrays.anc[level - 2][cand] if level >= 2 else np.full(n, -1)
    parent_cov = (parent >= 0) & covered[np.maximum(parent, 0)]
    western = np.isin(arrays.prefix_values(2)[cand], np.array([int(c) for c in WESTERN_PROVINCES]))
    ethnic_kind = arrays.kind_mask(sorted(ETHNIC_AUTONOMOUS_KINDS))
    ethnic_area = np.full(n, -1, dtype=np.int64)
    for k in range(min(level, 4)):  # nearest ancestor wins: iterate from the top down
        a = arrays.anc[k][cand]
        hit = (a >= 0) & ethnic_kind[np.maximum(a, 0)]
        ethnic_area = np.where(hit, a, ethnic_area)
    township_kind = arrays.kind_mask([ETHNIC_TOWNSHIP])
    own = arrays.anc[3][cand] if level >= 4 else cand
    ethnic_township = (own >= 0) & township_kind[np.maximum(own, 0)]
    area_level = 3 if level >= 4 else level - 1
    area = arrays.anc[area_level - 1][cand] if area_level >= 1 else np.full(n, -1)
    at_level = arrays.level == level
    if exclude_kinds:
        at_level &= ~arrays.kind_mask(exclude_kinds)
    grp = arrays.anc[area_level - 1][at_level] if area_level >= 1 else np.zeros(0, dtype=np.int32)
    ok = grp >= 0
    tot = np.bincount(grp[ok], minlength=arrays.size)
    cov = np.bincount(grp[ok][covered[at_level][ok]], minlength=arrays.size)
    safe = np.maximum(area, 0)
    return ScoreTerms(cand, parent_cov, western, ethnic_area, ethnic_township, area,
                      np.where(area >= 0, tot[safe], 0), np.where(area >= 0, cov[safe], 0))


def scores(terms: ScoreTerms, weights: Mapping[str, float]) -> np.ndarray:
    ratio = np.where(terms.area_total > 0, terms.area_covered / np.maximum(terms.area_total, 1), 1.0)
    return (weights["parent_covered"] * terms.parent_covered + weights["western"] * terms.western
            + weights["ethnic_autonomous"] * (terms.ethnic_area >= 0)
            + weights["ethnic_township"] * terms.ethnic_township
            + weights["low_coverage"] * (1.0 - ratio))


def plan_connections(store: Store, as_of: date, level: str = "township", region: str | None = None,
                     limit: int = 50, weights: Mapping[str, float] | None = None,
                     exclude_kinds: Sequence[str] = ()) -> list[PlanEntry]:
    """The top `limit` uncovered divisions of the level, best first, each with its reasons."""
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", field="--level", hint="one of " + ", ".join(LEVELS))
    if limit < 1:
        raise InputError("--limit must be at least 1", field="--limit")
    w = resolve_weights(weights)
    arrays = load_division_arrays(store, need_kinds=True)
    check_kinds(arrays, exclude_kinds)
    lv = level_number(level)
    covered = covered_mask(arrays, keys=active_link_keys(store, as_of))
    terms = score_terms(arrays, covered, lv, region_index(arrays, region), exclude_kinds)
    score = scores(terms, w)
    order = np.lexsort((arrays.keys[terms.candidates], -np.round(score, 9)))[:limit]
    wanted: set[str] = set()
    for j in order:
        i = int(terms.candidates[j])
        wanted.update(arrays.code(int(a)) for a in arrays.anc[:, i] if a >= 0)
        wanted.update(arrays.code(int(x)) for x in (terms.area[j], terms.ethnic_area[j]) if x >= 0)
        wanted.add(arrays.code(i))
    names = division_names(store, sorted(wanted))
    return [_entry(rank, int(j), arrays, terms, float(score[j]), w, names, level)
            for rank, j in enumerate(order, start=1)]


def _entry(rank: int, j: int, arrays: DivisionArrays, t: ScoreTerms, score: float, w: Mapping[str, float],
           names: Mapping[str, str], level: str) -> PlanEntry:
    i = int(t.candidates[j])
    code = arrays.code(i)

    def name(idx: int) -> str:
        return names.get(arrays.code(idx), arrays.code(idx)) if idx >= 0 else ""

    lv = int(arrays.level[i])
    reasons = []
    if t.parent_covered[j] and w["parent_covered"]:
        parent = int(arrays.anc[lv - 2][i])
        reasons.append(f"parent {name(parent)} ({arrays.code(parent)}) is already connected "
                       f"(+{w['parent_covered']:g})")
    province = int(arrays.anc[0][i])
    if t.western[j] and w["western"]:
        reasons.append(f"western region: {name(province) or WESTERN_PROVINCES[code[:2]]} (+{w['western']:g})")
    if t.ethnic_area[j] >= 0 and w["ethnic_autonomous"]:
        reasons.append(f"in ethnic-autonomous area {name(int(t.ethnic_area[j]))} (+{w['ethnic_autonomous']:g})")
    if t.ethnic_township[j] and w["ethnic_township"]:
        what = "ethnic township" if lv == 4 else f"in ethnic township {name(int(arrays.anc[3][i]))}"
        reasons.append(f"{what} (+{w['ethnic_township']:g})")
    if t.area[j] >= 0 and t.area_total[j] > 0 and w["low_coverage"]:
        ratio = t.area_covered[j] / t.area_total[j]
        reasons.append(f"{name(int(t.area[j]))} has {t.area_covered[j]}/{t.area_total[j]} {level}s connected "
                       f"({ratio:.0%}) (+{w['low_coverage'] * (1 - ratio):.2f})")
    county = int(arrays.anc[2][i]) if lv >= 3 else -1
    return PlanEntry(rank, code, name(i), arrays.kinds[int(arrays.kind[i])], name(province), name(county),
                     round(score, 4), reasons or ["uncovered"])
