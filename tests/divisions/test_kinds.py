"""Kinds derived from names, checked on the real shipped data and on known names."""

from __future__ import annotations

from collections import Counter
from importlib.resources import files

import pytest

from cloudctl.divisions import kinds as k
from cloudctl.divisions.csvfiles import read_division_file
from cloudctl.divisions.kinds import KIND_DESCRIPTIONS, KINDS, kind_of, kinds_of

from .conftest import fixture_path


@pytest.fixture(scope="module")
def shipped_kinds() -> dict[int, Counter[str]]:
    data = files("cloudctl.divisions") / "data"
    counts = {}
    for name in ("provinces", "cities", "areas", "streets"):
        f = read_division_file(str(data / f"{name}.csv.gz"))
        counts[f.level] = Counter(kinds_of(f.names, f.level))
    return counts


@pytest.mark.parametrize(("name", "level", "kind"), [
    ("北京市", 1, k.MUNICIPALITY), ("河北省", 1, k.PROVINCE), ("内蒙古自治区", 1, k.AUTONOMOUS_REGION),
    ("广西壮族自治区", 1, k.AUTONOMOUS_REGION),
    ("市辖区", 2, k.PLACEHOLDER), ("省直辖县级行政区划", 2, k.PLACEHOLDER),
    ("自治区直辖县级行政区划", 2, k.PLACEHOLDER),
    ("县", 2, k.PLACEHOLDER), ("石家庄市", 2, k.PREFECTURE_CITY), ("延边朝鲜族自治州", 2, k.AUTONOMOUS_PREFECTURE),
    ("阿里地区", 2, k.PREFECTURE), ("锡林郭勒盟", 2, k.LEAGUE),
    ("海淀区", 3, k.DISTRICT), ("浦东新区", 3, k.DISTRICT), ("碑林区", 3, k.DISTRICT), ("海港区", 3, k.DISTRICT),
    ("新城区", 3, k.DISTRICT), ("白云鄂博矿区", 3, k.DISTRICT), ("梅里斯达斡尔族区", 3, k.DISTRICT),
    ("密云区", 3, k.DISTRICT), ("正定县", 3, k.COUNTY), ("辛集市", 3, k.COUNTY_CITY),
    ("石林彝族自治县", 3, k.AUTONOMOUS_COUNTY), ("鄂伦春自治旗", 3, k.AUTONOMOUS_BANNER),
    ("阿巴嘎旗", 3, k.BANNER), ("神农架林区", 3, k.SPECIAL_DISTRICT), ("六枝特区", 3, k.SPECIAL_DISTRICT),
    ("苏州工业园区", 3, k.SPECIAL_ZONE), ("石家庄高新技术产业开发区", 3, k.SPECIAL_ZONE),
    ("五台山风景名胜区", 3, k.SPECIAL_ZONE), ("西沙群岛", 3, k.OTHER),
    ("万寿路街道", 4, k.SUBDISTRICT), ("马坡镇", 4, k.TOWN), ("东乡族镇", 4, k.TOWN), ("胡族铺镇", 4, k.TOWN),
    ("上庄乡", 4, k.TOWNSHIP), ("长哨营满族乡", 4, k.ETHNIC_TOWNSHIP), ("于家务回族乡", 4, k.ETHNIC_TOWNSHIP),
    ("鄂伦春民族乡", 4, k.ETHNIC_TOWNSHIP), ("宝格达乌拉苏木", 4, k.ETHNIC_TOWNSHIP),
    ("鄂温克民族苏木", 4, k.ETHNIC_TOWNSHIP), ("南磨房地区", 4, k.AREA_OFFICE),
    ("北京经济技术开发区", 4, k.SPECIAL_ZONE), ("红旗农场", 4, k.SPECIAL_ZONE), ("塞罕坝机械林场", 4, k.SPECIAL_ZONE),
    ("康保牧场", 4, k.SPECIAL_ZONE), ("乌兰敖道渔场", 4, k.SPECIAL_ZONE), ("开发区管理委员会", 4, k.SPECIAL_ZONE),
    ("中关村科技园区密云园", 4, k.SPECIAL_ZONE), ("深州监狱", 4, k.SPECIAL_ZONE), ("一团", 4, k.SPECIAL_ZONE),
    ("多福巷社区居委会", 5, k.RESIDENTS_COMMITTEE), ("东关街街道委员会", 5, k.RESIDENTS_COMMITTEE),
    ("梧桐社区", 5, k.RESIDENTS_COMMITTEE), ("翠微路21号社区居委会", 5, k.RESIDENTS_COMMITTEE),
    ("后沙峪村委会", 5, k.VILLAGE_COMMITTEE), ("上庄村民委员会", 5, k.VILLAGE_COMMITTEE),
    ("乌兰套亚嘎查", 5, k.VILLAGE_COMMITTEE), ("建华村", 5, k.VILLAGE_COMMITTEE),
    ("八连生活区", 5, k.VILLAGE_LIKE), ("如意虚拟社区", 5, k.VILLAGE_LIKE), ("红卫农场第七管理区", 5, k.VILLAGE_LIKE),
])
def test_known_names_get_their_kind(name: str, level: int, kind: str) -> None:
    assert kind_of(name, level) == kind


def test_every_kind_is_documented_and_listed_once() -> None:
    assert len(set(KINDS)) == len(KINDS)
    assert set(KIND_DESCRIPTIONS) == set(KINDS)
    assert k.ETHNIC_AUTONOMOUS_KINDS.issubset(KINDS)
    assert k.ETHNIC_KINDS.difference(k.ETHNIC_AUTONOMOUS_KINDS) == {k.ETHNIC_TOWNSHIP}


def test_shipped_counts_match_the_official_structure(shipped_kinds: dict[int, Counter[str]]) -> None:
    # 2023 statistical codes: 22 provinces, 5 autonomous regions, 4 municipalities
    assert shipped_kinds[1] == Counter({k.PROVINCE: 22, k.AUTONOMOUS_REGION: 5, k.MUNICIPALITY: 4})
    # 293 prefecture-level cities, 30 autonomous prefectures, 7 地区, 3 盟, and the placeholders
    assert shipped_kinds[2] == Counter({k.PREFECTURE_CITY: 293, k.AUTONOMOUS_PREFECTURE: 30, k.PREFECTURE: 7,
                                        k.LEAGUE: 3, k.PLACEHOLDER: 9})
    county = shipped_kinds[3]
    assert county[k.AUTONOMOUS_COUNTY] == 117 and county[k.AUTONOMOUS_BANNER] == 3
    assert county[k.BANNER] + county[k.AUTONOMOUS_BANNER] == 52  # Inner Mongolia's 52 banners
    assert county[k.COUNTY] == 1299
    assert 950 <= county[k.DISTRICT] <= 1000 and 390 <= county[k.COUNTY_CITY] <= 410
    assert 100 <= county[k.SPECIAL_ZONE] <= 140
    assert county[k.OTHER] <= 5


def test_shipped_township_kinds_are_plausible(shipped_kinds: dict[int, Counter[str]]) -> None:
    town = shipped_kinds[4]
    assert sum(town.values()) == 41352
    assert 21000 <= town[k.TOWN] <= 22000
    assert 8500 <= town[k.SUBDISTRICT] <= 9500
    assert 6500 <= town[k.TOWNSHIP] <= 8000
    assert 950 <= town[k.ETHNIC_TOWNSHIP] <= 1200  # ~1,000 民族乡 plus 150 苏木
    assert 1500 <= town[k.SPECIAL_ZONE] <= 3000
    assert town[k.OTHER] < 0.01 * sum(town.values())
    assert set(town) <= {k.TOWN, k.SUBDISTRICT, k.TOWNSHIP, k.ETHNIC_TOWNSHIP, k.SPECIAL_ZONE, k.AREA_OFFICE, k.OTHER}


def test_fixture_villages_are_committees() -> None:
    f = read_division_file(fixture_path("villages"))
    counts = Counter(kinds_of(f.names, 5))
    assert counts[k.OTHER] == 0
    assert counts[k.VILLAGE_COMMITTEE] > 150 and counts[k.RESIDENTS_COMMITTEE] > 500
    assert sum(counts.values()) == len(f)
