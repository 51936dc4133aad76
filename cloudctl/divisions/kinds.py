"""The kind of a division, derived from its name and level (table in docs/divisions.md).

Pure functions over strings. The rules look at the end of the name first (a 镇 is a town
whatever it is called), then at markers anywhere in the name (开发区, 农场 ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# level 1
PROVINCE = "province"  # 省
MUNICIPALITY = "municipality"  # 直辖市: 北京市 天津市 上海市 重庆市
AUTONOMOUS_REGION = "autonomous_region"  # 自治区
# level 2
PREFECTURE_CITY = "prefecture_city"  # 地级市
AUTONOMOUS_PREFECTURE = "autonomous_prefecture"  # 自治州
PREFECTURE = "prefecture"  # 地区
LEAGUE = "league"  # 盟 (Inner Mongolia)
PLACEHOLDER = "placeholder"  # 市辖区, 省直辖县级行政区划, 自治区直辖县级行政区划, 县 (Chongqing)
# level 3
DISTRICT = "district"  # 区 (市辖区 of a city)
COUNTY = "county"  # 县
AUTONOMOUS_COUNTY = "autonomous_county"  # 自治县
COUNTY_CITY = "county_city"  # 县级市
BANNER = "banner"  # 旗 (Inner Mongolia)
AUTONOMOUS_BANNER = "autonomous_banner"  # 自治旗
SPECIAL_DISTRICT = "special_district"  # 特区, 林区
# level 4
TOWN = "town"  # 镇
TOWNSHIP = "township"  # 乡
ETHNIC_TOWNSHIP = "ethnic_township"  # 民族乡 (回族乡, 满族乡 ...), 苏木, 民族苏木
SUBDISTRICT = "subdistrict"  # 街道
AREA_OFFICE = "area_office"  # 地区 (地区办事处, Beijing: a 乡 and a 街道 in one office)
# level 3 and 4
SPECIAL_ZONE = "special_zone"  # 开发区, 园区, 农场, 林场, 牧场, 管委会, 风景区, 渔场 ...
# level 5
VILLAGE_COMMITTEE = "village_committee"  # 村委会, 村民委员会, 嘎查 (Mongolian village)
RESIDENTS_COMMITTEE = "residents_committee"  # 居委会, 居民委员会, 社区
VILLAGE_LIKE = "village_like"  # 生活区, 管理区, 生产队, 虚拟社区 (类似村/居委会 units)
# any level: a name no rule recognises
OTHER = "other"

KINDS: tuple[str, ...] = (
    PROVINCE, MUNICIPALITY, AUTONOMOUS_REGION,
    PREFECTURE_CITY, AUTONOMOUS_PREFECTURE, PREFECTURE, LEAGUE, PLACEHOLDER,
    DISTRICT, COUNTY, AUTONOMOUS_COUNTY, COUNTY_CITY, BANNER, AUTONOMOUS_BANNER, SPECIAL_DISTRICT,
    TOWN, TOWNSHIP, ETHNIC_TOWNSHIP, SUBDISTRICT, AREA_OFFICE, SPECIAL_ZONE,
    VILLAGE_COMMITTEE, RESIDENTS_COMMITTEE, VILLAGE_LIKE,
    OTHER,
)

# Ethnic-autonomous areas (自治区/自治州/自治县/自治旗) and banners (旗), as the coverage
# plan ranks them; ETHNIC_KINDS adds ethnic townships (民族乡, 苏木).
ETHNIC_AUTONOMOUS_KINDS: frozenset[str] = frozenset(
    {AUTONOMOUS_REGION, AUTONOMOUS_PREFECTURE, AUTONOMOUS_COUNTY, AUTONOMOUS_BANNER, BANNER})
ETHNIC_KINDS: frozenset[str] = ETHNIC_AUTONOMOUS_KINDS | {ETHNIC_TOWNSHIP}

# One line per kind for docs and `--help`: (level(s), 中文, what it is)
KIND_DESCRIPTIONS: dict[str, str] = {
    PROVINCE: "1 省 province",
    MUNICIPALITY: "1 直辖市 municipality directly under the central government",
    AUTONOMOUS_REGION: "1 自治区 autonomous region (ethnic-autonomous)",
    PREFECTURE_CITY: "2 地级市 prefecture-level city",
    AUTONOMOUS_PREFECTURE: "2 自治州 autonomous prefecture (ethnic-autonomous)",
    PREFECTURE: "2 地区 prefecture",
    LEAGUE: "2 盟 league (Inner Mongolia)",
    PLACEHOLDER: "2 市辖区 / 省直辖县级行政区划 / 县: a statistical grouping, not a government",
    DISTRICT: "3 区 district",
    COUNTY: "3 县 county",
    AUTONOMOUS_COUNTY: "3 自治县 autonomous county (ethnic-autonomous)",
    COUNTY_CITY: "3 县级市 county-level city",
    BANNER: "3 旗 banner (Inner Mongolia; counted with the ethnic-autonomous areas)",
    AUTONOMOUS_BANNER: "3 自治旗 autonomous banner (ethnic-autonomous)",
    SPECIAL_DISTRICT: "3 特区 / 林区 special or forestry district",
    TOWN: "4 镇 town",
    TOWNSHIP: "4 乡 township",
    ETHNIC_TOWNSHIP: "4 民族乡 (回族乡, 满族乡 ...) / 苏木 / 民族苏木 ethnic township",
    SUBDISTRICT: "4 街道 subdistrict",
    AREA_OFFICE: "4 地区(办事处) area office (Beijing: township and subdistrict in one)",
    SPECIAL_ZONE: "3-4 开发区 园区 农场 林场 牧场 渔场 管委会 风景区 监狱 ... special zone",
    VILLAGE_COMMITTEE: "5 村委会 / 村民委员会 / 嘎查 village committee",
    RESIDENTS_COMMITTEE: "5 居委会 / 居民委员会 / 社区 residents' committee",
    VILLAGE_LIKE: "5 生活区 管理区 生产队 虚拟社区 village-like unit",
    OTHER: "any level: a name no rule recognises (e.g. 西沙群岛, 城区, 办事处)",
}

# Markers of a special zone (功能区) at township level: development zones, parks, state
# farms and forests, management committees, scenic areas, prisons, enterprises.
SPECIAL_ZONE_MARKERS: tuple[str, ...] = (
    "开发区", "园区", "产业园", "工业园", "科技园", "创业园", "物流园", "农业园", "生态园", "创新园",
    "高新区", "新技术产业", "保税", "自贸", "示范区", "实验区", "试验区", "合作区", "经济区",
    "工业区", "产业区", "聚集区", "集聚区", "集中区", "功能区", "物流区", "贸易区", "商务区", "食品区",
    "管理区", "管理处", "管理局", "管委会", "管理委员会", "行政委员会", "服务中心",
    "风景", "景区", "旅游区", "度假区", "保护区", "湿地", "旅游岛", "科技谷", "片区", "灌区",
    "农场", "林场", "牧场", "渔场", "茶场", "盐场", "马场", "羊场", "牛场", "猪场", "鹿场", "果场",
    "良种场", "种场", "殖场", "畜场", "园艺场", "苗圃", "垦", "农牧", "林业局", "森工",
    "繁育中心", "保护中心", "实验中心",
    "监狱", "戒毒所", "劳教所", "公司", "集团", "煤矿", "矿区", "铝厂", "工矿", "机场",
    "基地", "水库", "港区", "新城", "科技城", "生态城", "物流港",
)
# At county level only the unambiguous markers: 海港区, 绿园区, 新城区, 垦利区 are districts.
COUNTY_SPECIAL_ZONE_MARKERS: tuple[str, ...] = (
    "开发区", "工业园区", "产业园区", "化工园区", "创意园区", "示范区", "实验区", "试验区",
    "管理区", "管委会", "行政委员会", "风景名胜区", "聚集区", "食品区", "新城",
)
FORESTRY_DISTRICTS = frozenset({"神农架林区"})  # 林区 elsewhere is part of a name (碑林区, 万柏林区)
_REGIMENT_SUFFIXES = ("团", "团场")  # 兵团 regiments: 一团, 二十一团
_ETHNIC_SUFFIXES = ("民族乡", "族乡", "苏木")  # 回族乡, 满族乡 ... are ethnic townships too
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县"})

_VILLAGE_COMMITTEE_SUFFIXES = ("村委会", "村民委员会", "牧委会")
_RESIDENTS_COMMITTEE_SUFFIXES = ("居委会", "居民委员会")
_VILLAGE_SUFFIXES = ("村委会", "村民委员会", "牧委会", "嘎查村委会", "嘎查委员会", "嘎查", "村")
_RESIDENTS_SUFFIXES = ("居委会", "居民委员会", "社区")
_VILLAGE_LIKE_MARKERS = ("虚拟", "类似", "生活区", "管理区", "生产队", "作业区", "连队")
_VILLAGE_LIKE_SUFFIXES = ("场", "队", "连", "分场", "场部", "区")
_TRAILING_NOTE = re.compile(r"(?:[（(][^（）()]*[）)]+)+$")  # 英义社区（农场）, xx村（部分）


def _has_marker(name: str, markers: tuple[str, ...]) -> bool:
    return any(m in name for m in markers)


def _province_kind(name: str) -> str:
    if name.endswith("自治区"):
        return AUTONOMOUS_REGION
    if name.endswith("省"):
        return PROVINCE
    if name.endswith("市"):
        return MUNICIPALITY
    return OTHER


def _prefecture_kind(name: str) -> str:
    if name in _PLACEHOLDER_NAMES or name.endswith("直辖县级行政区划"):
        return PLACEHOLDER
    if name.endswith("自治州"):
        return AUTONOMOUS_PREFECTURE
    if name.endswith("地区"):
        return PREFECTURE
    if name.endswith("盟"):
        return LEAGUE
    if name.endswith("市"):
        return PREFECTURE_CITY
    return OTHER


def _county_kind(name: str) -> str:
    if name in _PLACEHOLDER_NAMES or name.endswith("行政区划"):
        return PLACEHOLDER
    if name.endswith("自治县"):
        return AUTONOMOUS_COUNTY
    if name.endswith("自治旗"):
        return AUTONOMOUS_BANNER
    if _has_marker(name, COUNTY_SPECIAL_ZONE_MARKERS) and not name.endswith("新城区"):
        return SPECIAL_ZONE
    if name.endswith("旗"):
        return BANNER
    if name.endswith("县"):
        return COUNTY
    if name.endswith("市"):
        return COUNTY_CITY
    if name.endswith("特区") or name in FORESTRY_DISTRICTS:
        return SPECIAL_DISTRICT
    if name.endswith("区"):
        return DISTRICT
    return OTHER


def _township_kind(name: str) -> str:
    if name.endswith(("街道", "街道办事处")):
        return SUBDISTRICT
    if name.endswith(_ETHNIC_SUFFIXES):
        return ETHNIC_TOWNSHIP
    if name.endswith("乡"):
        return TOWNSHIP
    if name.endswith("镇"):
        return TOWN
    if _has_marker(name, SPECIAL_ZONE_MARKERS) or name.endswith(_REGIMENT_SUFFIXES) or name.endswith("场"):
        return SPECIAL_ZONE
    if name.endswith(("地区", "地区办事处")):
        return AREA_OFFICE
    return OTHER


def _village_kind(name: str) -> str:
    if name.endswith(_VILLAGE_COMMITTEE_SUFFIXES):  # the common cases first (~470k of 620k rows)
        return VILLAGE_COMMITTEE
    if name.endswith(_RESIDENTS_COMMITTEE_SUFFIXES):
        return RESIDENTS_COMMITTEE
    if name.endswith(("）", ")")):
        name = _TRAILING_NOTE.sub("", name) or name
        if name.endswith(_VILLAGE_COMMITTEE_SUFFIXES):
            return VILLAGE_COMMITTEE
        if name.endswith(_RESIDENTS_COMMITTEE_SUFFIXES):
            return RESIDENTS_COMMITTEE
    if _has_marker(name, _VILLAGE_LIKE_MARKERS):
        return VILLAGE_LIKE
    if name.endswith(_RESIDENTS_SUFFIXES):
        return RESIDENTS_COMMITTEE
    if name.endswith(_VILLAGE_SUFFIXES):
        return VILLAGE_COMMITTEE
    if name.endswith(_VILLAGE_LIKE_SUFFIXES):
        return VILLAGE_LIKE
    if "村民" in name or "村委" in name or name.endswith(("村委员会", "村会")):
        return VILLAGE_COMMITTEE  # misspelt: 村民委会, 村村民委会员, 肖家道村会
    if "居委" in name or "居民" in name or "社区" in name or name.endswith(("委员会", "委会")):
        return RESIDENTS_COMMITTEE  # 社区居委, 社区居民委员, 第一街委员会, 社区服务中心
    return OTHER


_BY_LEVEL = {1: _province_kind, 2: _prefecture_kind, 3: _county_kind, 4: _township_kind, 5: _village_kind}


def kind_of(name: str, level: int) -> str:
    """The kind (one of KINDS) of a division called NAME at LEVEL (1 province .. 5 village)."""
    rule = _BY_LEVEL.get(level)
    if rule is None:
        raise ValueError(f"no division level {level}")
    return rule(name.strip())


def kinds_of(names: Sequence[str], level: int) -> list[str]:
    """kind_of for a whole column of one level (the common village endings inline: 3x fewer calls)."""
    rule = _BY_LEVEL[level]
    if level == 5:
        vc, rc = _VILLAGE_COMMITTEE_SUFFIXES, _RESIDENTS_COMMITTEE_SUFFIXES
        return [VILLAGE_COMMITTEE if n.endswith(vc) else RESIDENTS_COMMITTEE if n.endswith(rc) else rule(n)
                for n in names]
    return [rule(n) for n in names]


def is_ethnic_kind(kind: str) -> bool:
    """Ethnic-autonomous areas, banners and ethnic townships."""
    return kind in ETHNIC_KINDS


def validate_kind(kind: str) -> str:
    """Return KIND if it is one of KINDS; InputError naming the choices otherwise."""
    from cloudctl.errors import InputError

    if kind not in KINDS:
        raise InputError(f"unknown division kind {kind!r}", field="kind", hint="use one of " + ", ".join(KINDS))
    return kind
