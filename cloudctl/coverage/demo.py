"""A deterministic, realistic link history for the demo: a pure function over division codes.

What it reproduces: on SNAPSHOT (2015-05-31) exactly round(published ratio × total) divisions
of each level are covered (the published national figures: province 100 %, prefecture 94.3 %,
county 83.5 %, township 33.6 %); coverage then keeps growing to `today`.

How it is realistic:
- a division is connected only after its parent (county before its townships);
- eastern provinces connect earlier, central ones later, the 12 western ones last
  (a regional bonus in each division's score, plus seeded noise); subdistricts (街道, urban)
  earlier, special zones (农场, 开发区 …) later;
- link types and bandwidth follow level and era (SDH/MSTP leased lines first, then fiber;
  VPN, microwave and satellite for remote western townships), providers follow the region;
- older links are retired and replaced (replacement activated the day the old one retires,
  so coverage never dips); provinces and prefectures get backup links, some retired later.

Everything derives from numpy's seeded generator over the sorted codes: same input, same
seed, same `today` → the same links (link ids are stable, so a rerun upserts in place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np

from cloudctl.divisions.codes import CODE_LENGTHS, LEVEL_NAMES

SNAPSHOT = date(2015, 5, 31)
PUBLISHED: dict[str, float] = {"province": 1.0, "prefecture": 0.943, "county": 0.835, "township": 0.336}
DEFAULT_SEED = 20150531
LEVELS = LEVEL_NAMES[:4]  # the demo's history goes down to townships
_LENGTHS = CODE_LENGTHS[:4]
# The 12 provinces of the Western Development programme, and the eastern coastal ones.
WEST = frozenset({"15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"})
EAST = frozenset({"11", "12", "13", "21", "31", "32", "33", "35", "37", "44", "46"})
REMOTE = frozenset({"54", "63", "65"})  # Tibet, Qinghai, Xinjiang: satellite where nothing else reaches
NORTH = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "37", "41"})
# First connection dates per level: start of the roll-out, last date of those connected by SNAPSHOT,
# last date of the later ones (None = today).
ROLL_OUT: dict[str, tuple[date, date, date | None]] = {
    "province": (date(2009, 1, 5), date(2009, 9, 30), date(2009, 12, 31)),
    "prefecture": (date(2009, 2, 1), date(2014, 12, 31), date(2018, 6, 30)),
    "county": (date(2009, 6, 1), SNAPSHOT, None),
    "township": (date(2010, 3, 1), SNAPSHOT, None),
}
# Share of the divisions still unconnected on SNAPSHOT that are connected by today.
CONNECTED_LATER: dict[str, float] = {"province": 1.0, "prefecture": 1.0, "county": 0.9, "township": 0.33}
DEMO_TARGETS: tuple[tuple[str, float, date, str], ...] = (
    ("prefecture", 1.0, date(2018, 12, 31), "coverage"),
    ("county", 1.0, date(2027, 12, 31), "coverage"),
    ("township", 0.60, date(2027, 12, 31), "coverage"),
    ("township", 0.99, date(2027, 12, 31), "availability"),
)


class DemoLink(NamedTuple):
    link_id: str
    division_code: str
    link_type: str
    bandwidth_mbps: float
    activated_on: date
    retired_on: date | None
    provider: str | None


@dataclass(frozen=True)
class SnapshotTarget:
    level: str
    total: int
    covered: int
    published: float

    @property
    def ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def note(self) -> str | None:
        """Why the reproduced figure differs from the published one, when it does (at 0.1 %)."""
        if self.total == 0 or round(self.ratio * 1000) == round(self.published * 1000):
            return None
        return (f"{self.level}: the published {self.published * 100:.1f} % is unreachable with {self.total} "
                f"{self.level}s; the nearest is {self.covered}/{self.total} = {self.ratio * 100:.1f} %")


def snapshot_targets(totals: dict[str, int]) -> list[SnapshotTarget]:
    """Covered counts on SNAPSHOT: round(published ratio × total), half up."""
    return [SnapshotTarget(lv, totals.get(lv, 0), int(np.floor(PUBLISHED[lv] * totals.get(lv, 0) + 0.5)),
                           PUBLISHED[lv]) for lv in LEVELS]


def _region_bonus(provinces: np.ndarray) -> np.ndarray:
    east = np.isin(provinces, list(EAST))
    west = np.isin(provinces, list(WEST))
    return np.where(east, 0.6, np.where(west, 0.0, 0.35))


def _kind_bonus(kinds: np.ndarray) -> np.ndarray:
    bonus = np.zeros(len(kinds))
    bonus[kinds == "subdistrict"] = 0.45
    bonus[kinds == "town"] = 0.15
    bonus[kinds == "district"] = 0.3
    bonus[kinds == "special_zone"] = -0.5
    bonus[np.isin(kinds, ["ethnic_township", "autonomous_county", "autonomous_banner", "banner"])] = -0.15
    return bonus


def _spread(n: int, start: int, end: int, power: float) -> np.ndarray:
    """n day ordinals from start to end, rank 0 first; power < 1 makes the roll-out accelerate."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    q = (np.arange(n) + 0.5) / n
    return (start + np.floor((q**power) * (end - start))).astype(np.int64)


def connection_dates(codes: np.ndarray, kinds: np.ndarray, parent_dates: np.ndarray, level: str, covered: int,
                     today: date, rng: np.random.Generator) -> np.ndarray:
    """First connection day (ordinal) per division of one level; NEVER where not connected by today."""
    n = len(codes)
    never = np.iinfo(np.int64).max
    snap, today_day = SNAPSHOT.toordinal(), today.toordinal()
    start, first_end, end = ROLL_OUT[level]
    end_day = min((end or today).toordinal(), today_day)
    provinces = np.array([c[:2] for c in codes])
    score = _region_bonus(provinces) + _kind_bonus(kinds) + rng.normal(0.0, 0.5, n)
    order = np.argsort(-score, kind="stable")  # best first
    eligible = parent_dates[order] <= snap
    chosen = np.concatenate([order[eligible], order[~eligible]])[:covered]  # parents first, exact count
    dates = np.full(n, never, dtype=np.int64)
    dates[chosen] = _spread(len(chosen), start.toordinal(), first_end.toordinal(), 0.75)
    dates[chosen] = np.minimum(np.maximum(dates[chosen], np.minimum(parent_dates[chosen], snap)), snap)
    rest = np.setdiff1d(order, chosen, assume_unique=True)
    # Those whose parent is already connected come first after SNAPSHOT too (unless far ahead on score).
    rest = rest[np.argsort(-score[rest] + 0.8 * (parent_dates[rest] > snap), kind="stable")]
    later = rest[: round(CONNECTED_LATER[level] * len(rest))]
    if len(later) and end_day > snap:
        planned = _spread(len(later), snap + 1, end_day, 0.9)
        jitter = rng.integers(0, 45, len(later))
        planned = np.maximum(planned, np.where(parent_dates[later] == never, never, parent_dates[later] + jitter))
        dates[later] = np.where(planned <= today_day, planned, never)
    return dates


def _provider(province: str, year: int, u: float) -> str:
    north = province in NORTH
    shares = (("中国联通", 0.6), ("中国电信", 0.3)) if north else (("中国电信", 0.6), ("中国联通", 0.2))
    if year >= 2016:  # China Mobile wins a larger share of government lines later
        shares = ((shares[0][0], shares[0][1] - 0.15), (shares[1][0], shares[1][1]))
    acc = 0.0
    for name, share in shares:
        acc += share
        if u < acc:
            return name
    return "中国移动"


def _primary(level: str, province: str, kind: str, year: int, u: float) -> tuple[str, float]:
    """Link type and bandwidth of a first connection, by level, era and region."""
    if level == "province":
        return "fiber", 1000.0
    if level == "prefecture":
        return ("sdh", 155.0) if year < 2011 else (("mstp", 155.0) if year < 2013 else ("fiber", 1000.0))
    if level == "county":
        if year < 2013:
            return ("mstp", 20.0) if u < 0.5 else ("mstp", 50.0)
        return ("fiber", 100.0) if u < 0.7 else ("mstp", 100.0)
    remote = province in REMOTE or kind == "ethnic_township"
    if remote and u < 0.25:
        return "satellite", 2.0
    if province in WEST and u < 0.45:
        return ("wireless", 10.0) if u < 0.35 else ("vpn", 10.0)
    if year < 2014:
        return ("mstp", 4.0) if u < 0.6 else (("vpn", 10.0) if u < 0.85 else ("sdh", 2.0))
    if year < 2018:
        return ("mstp", 10.0) if u < 0.5 else ("fiber", 50.0)
    return "fiber", 100.0


UPGRADE: dict[str, tuple[str, float]] = {"province": ("fiber", 10000.0), "prefecture": ("fiber", 1000.0),
                                        "county": ("fiber", 1000.0), "township": ("fiber", 100.0)}


def links_for_level(codes: np.ndarray, kinds: np.ndarray, dates: np.ndarray, level: str, today: date,
                    rng: np.random.Generator) -> list[DemoLink]:
    """The links of the connected divisions of one level: primaries, upgrades, backups."""
    links: list[DemoLink] = []
    today_day = today.toordinal()
    connected = np.flatnonzero(dates <= today_day)
    u = rng.random((len(connected), 5))
    for row, i in enumerate(connected):
        code, kind, first = str(codes[i]), str(kinds[i]), int(dates[i])
        province = code[:2]
        day0 = date.fromordinal(first)
        ltype, bw = _primary(level, province, kind, day0.year, u[row, 0])
        provider = "中国卫通" if ltype == "satellite" else _provider(province, day0.year, u[row, 1])
        # Old technology is replaced by fiber 3-8 years on (the replacement starts the day the old retires).
        upgrade_day = first + 365 * 3 + int(u[row, 2] * 365 * 5)
        upgrades = (ltype != "fiber" or level == "province") and u[row, 3] < 0.75 and upgrade_day <= today_day
        retired = date.fromordinal(upgrade_day) if upgrades else None
        links.append(DemoLink(f"DEMO-{code}-1", code, ltype, bw, day0, retired, provider))
        if upgrades:
            new_type, new_bw = UPGRADE[level]
            up_provider = _provider(province, date.fromordinal(upgrade_day).year, u[row, 4])
            links.append(DemoLink(f"DEMO-{code}-2", code, new_type, new_bw, date.fromordinal(upgrade_day),
                                  None, up_provider))
        if level in ("province", "prefecture"):  # a backup over another provider's VPN
            backup_day = first + 30 + int(u[row, 4] * 700)
            if backup_day <= today_day:
                retire_day = backup_day + 1500 + int(u[row, 2] * 1500)
                backup_retired = date.fromordinal(retire_day) if u[row, 3] < 0.4 and retire_day <= today_day else None
                links.append(DemoLink(f"DEMO-{code}-B", code, "vpn", 100.0 if level == "province" else 20.0,
                                      date.fromordinal(backup_day), backup_retired,
                                      "中国移动" if provider != "中国移动" else "中国电信"))
    return links


def generate_link_history(codes: Sequence[str], kinds: Sequence[str], *, today: date,
                          seed: int = DEFAULT_SEED) -> list[DemoLink]:
    """Links for province..township divisions (12-digit village codes are ignored).

    codes/kinds: one entry per division, in any order. Returns links sorted by link id.
    """
    all_codes = np.asarray(codes, dtype=str)
    all_kinds = np.asarray(kinds, dtype=object).astype(str)
    order = np.argsort(all_codes, kind="stable")
    all_codes, all_kinds = all_codes[order], all_kinds[order]
    lengths = np.char.str_len(all_codes) if len(all_codes) else np.zeros(0, dtype=int)
    totals = {lv: int((lengths == n).sum()) for lv, n in zip(LEVELS, _LENGTHS, strict=True)}
    targets = {t.level: t.covered for t in snapshot_targets(totals)}
    rng = np.random.default_rng(seed)
    never = np.iinfo(np.int64).max
    known: dict[str, int] = {}
    links: list[DemoLink] = []
    for lv, n in zip(LEVELS, _LENGTHS, strict=True):
        mask = lengths == n
        codes_l, kinds_l = all_codes[mask], all_kinds[mask]
        if n == 2:
            parent_dates = np.full(len(codes_l), ROLL_OUT["province"][0].toordinal(), dtype=np.int64)
        else:
            parent_len = _LENGTHS[_LENGTHS.index(n) - 1]
            parent_dates = np.array([known.get(c[:parent_len], never) for c in codes_l], dtype=np.int64)
        dates = connection_dates(codes_l, kinds_l, parent_dates, lv, targets[lv], today, rng)
        known.update(zip(codes_l.tolist(), dates.tolist(), strict=True))
        links.extend(links_for_level(codes_l, kinds_l, dates, lv, today, rng))
    links.sort(key=lambda link: link.link_id)
    return links


# --- Running the demo on a store (I/O): divisions, links, targets, report. ---------------------


@dataclass(frozen=True)
class DemoResult:
    links: int
    inserted: int
    updated: int
    unchanged: int
    removed: int
    snapshot: list[SnapshotTarget]
    report_files: list[Any]
    report: dict[str, Any]


def read_division_columns(store: Any) -> tuple[list[str], list[str]]:
    """Codes and kinds of every province..township division in the store (one query)."""
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT code, kind FROM division WHERE level <= 4")
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    return [r[0] for r in rows], [r[1] for r in rows]


def store_demo_links(store: Any, links: Sequence[DemoLink], actor: Any) -> tuple[Any, int]:
    """Upsert the links by link_id and drop demo links the history no longer has: one transaction."""
    from sqlalchemy import delete, select

    from cloudctl.audit import record_change
    from cloudctl.coverage.links import LinkRecord, upsert_links
    from cloudctl.store.tables.coverage import link

    records = [LinkRecord(*row) for row in links]
    wanted = {row.link_id for row in links}
    with store.begin() as conn:
        existing = conn.execute(select(link.c.link_id).where(link.c.link_id.like("DEMO-%"))).scalars().all()
        stale = sorted(set(existing) - wanted)
        if stale:
            for start in range(0, len(stale), 500):
                conn.execute(delete(link).where(link.c.link_id.in_(stale[start:start + 500])))
            record_change(conn, actor, "delete", "link", "demo", {"demo_links": len(stale)}, None)
        result = upsert_links(conn, records, actor, source="cloudctl demo")
    return result, len(stale)


def set_demo_targets(store: Any, actor: Any) -> None:
    """The demo's national targets; left alone when already set to the same values."""
    from cloudctl.coverage.model import Target
    from cloudctl.coverage.targets import list_targets, set_target

    with store.connect() as conn:
        current = {(t.metric, t.level, t.region): (t.ratio, t.by) for t in list_targets(conn, metric=None)}
    for level, ratio, by, metric in DEMO_TARGETS:
        if current.get((metric, level, None)) != (ratio, by):
            set_target(store, Target(level, ratio, by, None, metric), actor)


def run_demo(store: Any, actor: Any, out_dir: Any, *, today: date, as_of: date | None = None,
             seed: int = DEFAULT_SEED, progress: Any = None) -> DemoResult:
    """Load the shipped divisions, store the generated history, set targets, write the report."""
    from pathlib import Path

    from cloudctl import clock
    from cloudctl.availability.demo import DAYS, store_demo_availability
    from cloudctl.availability.period import day_start_ms
    from cloudctl.coverage.report import ReportOptions, build_report, write_report
    from cloudctl.divisions.shipped import load_shipped_divisions

    advance = progress or (lambda n=1, total=None: None)
    load_shipped_divisions(store, actor, progress=None)
    advance(1)
    codes, kinds = read_division_columns(store)
    links = generate_link_history(codes, kinds, today=today, seed=seed)
    advance(1)
    result, removed = store_demo_links(store, links, actor)
    set_demo_targets(store, actor)
    store_demo_availability(store, [(k.link_id, k.division_code) for k in links
                                    if k.retired_on is None or k.retired_on > today - timedelta(days=DAYS)],
                            day_start_ms(clock.current(), today), seed)
    advance(1)
    data = build_report(store, ReportOptions(as_of=as_of or today))
    files = write_report(data, Path(out_dir))
    advance(1)
    totals: dict[str, int] = {}
    for code in codes:
        level = LEVELS[_LENGTHS.index(len(code))]
        totals[level] = totals.get(level, 0) + 1
    return DemoResult(len(links), result.inserted, result.updated, result.unchanged, removed,
                      snapshot_targets(totals), files, data)
