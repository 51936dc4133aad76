"""A small synthetic division registry and link history, plus a plain-Python reference
implementation of the coverage definition to check the columnar code against."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from cloudctl.coverage.links import LinkRecord
from cloudctl.coverage.model import LEVELS
from cloudctl.store import Store
from cloudctl.store.tables.core import meta
from cloudctl.store.tables.coverage import link as link_table
from cloudctl.store.tables.divisions import division


@dataclass(frozen=True)
class Div:
    code: str
    name: str
    level: int
    parent_code: str | None
    kind: str


def make_registry(seed: int = 7) -> list[Div]:
    """Three provinces (one western, one western with banners), a few of everything below."""
    rng = random.Random(seed)
    out: list[Div] = []
    provinces = [("11", "北京市", "municipality"), ("15", "内蒙古自治区", "autonomous_region"),
                 ("51", "四川省", "province")]
    for pcode, pname, pkind in provinces:
        out.append(Div(pcode, pname, 1, None, pkind))
        for p in range(1, 3):
            ccode = f"{pcode}{p:02d}"
            ckind = "autonomous_prefecture" if (pcode, p) == ("51", 2) else "prefecture_city"
            out.append(Div(ccode, f"{pname}市{p}", 2, pcode, ckind))
            for a in range(1, 3):
                acode = f"{ccode}{a:02d}"
                akind = "banner" if pcode == "15" and a == 2 else "county"
                out.append(Div(acode, f"县{acode}", 3, ccode, akind))
                for s in range(1, rng.randint(3, 5)):
                    scode = f"{acode}{s:03d}"
                    skind = rng.choice(["town", "township", "ethnic_township", "subdistrict", "special_zone"])
                    out.append(Div(scode, f"乡{scode}", 4, acode, skind))
                    for v in range(1, rng.randint(1, 4)):
                        vkind = rng.choice(["village_committee", "residents_committee"])
                        out.append(Div(f"{scode}{v:03d}", f"村{scode}{v}", 5, scode, vkind))
    return out


def make_links(divs: list[Div], n: int, seed: int = 11) -> list[LinkRecord]:
    rng = random.Random(seed)
    start = date(2010, 1, 1)
    links = []
    for i in range(n):
        d = rng.choice(divs)
        act = start + timedelta(days=rng.randint(0, 4000))
        ret = act + timedelta(days=rng.randint(1, 2000)) if rng.random() < 0.4 else None
        links.append(LinkRecord(f"T{i:05d}", d.code, rng.choice(["fiber", "vpn", "sdh"]), 10.0, act, ret, None))
    return links


def insert_divisions(store: Store, divs: list[Div], generation: str | None = "1") -> None:
    with store.begin() as conn:
        conn.execute(insert(division), [d.__dict__ for d in divs])
        if generation is not None:
            conn.execute(meta.delete().where(meta.c.key == "divisions_generation"))
            conn.execute(insert(meta).values(key="divisions_generation", value=generation))


def insert_links(store: Store, links: list[LinkRecord]) -> None:
    with store.begin() as conn:
        conn.execute(insert(link_table), [
            {"link_id": r.link_id, "division_code": r.division_code, "link_type": r.link_type,
             "bandwidth_mbps": r.bandwidth_mbps, "activated_on": r.activated_on, "retired_on": r.retired_on,
             "provider": r.provider} for r in links])


# --- the reference: the definition, word for word, over plain rows -----------------------

def ref_covered(links: list[LinkRecord], d: date) -> set[str]:
    return {r.division_code for r in links
            if r.activated_on <= d and (r.retired_on is None or r.retired_on > d)}


def ref_levels(divs: list[Div], links: list[LinkRecord], d: date, region: str | None = None,
               exclude: tuple[str, ...] = ()) -> list[dict[str, object]]:
    cov = ref_covered(links, d)
    out = []
    for lv, name in enumerate(LEVELS, start=1):
        members = [x for x in divs if x.level == lv and x.kind not in exclude
                   and (region is None or x.code.startswith(region))]
        if members:
            covered = sum(1 for x in members if x.code in cov)
            out.append({"level": name, "total": len(members), "covered": covered,
                        "ratio": round(covered / len(members), 6)})
    return out


@pytest.fixture
def registry() -> list[Div]:
    return make_registry()


@pytest.fixture
def loaded(store: Store, registry: list[Div]) -> Store:
    insert_divisions(store, registry)
    return store


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cloudctl", *args], capture_output=True, text=True,
                          timeout=180, input=stdin)
