"""Which 2023 code is drawn from which map geometry: the three rules, and nothing else."""

from __future__ import annotations

from cloudctl.coverage.maps.builder.crosswalk import Division, build_crosswalk


def divisions(*rows: tuple[str, str, str | None]) -> dict[str, Division]:
    return {code: Division(code, name, parent) for code, name, parent in rows}


def test_rules_in_order() -> None:
    divs = divisions(
        ("43", "湖南省", None), ("4311", "永州市", "43"), ("431181", "祁阳市", "4311"), ("431102", "零陵区", "4311"),
        ("41", "河南省", None), ("4190", "省直辖县级行政区划", "41"), ("419001", "济源市", "4190"),
        ("65", "新疆维吾尔自治区", None), ("6590", "自治区直辖县级行政区划", "65"), ("659001", "石河子市", "6590"),
        ("659012", "白杨市", "6590"), ("4301", "长沙市", "43"), ("430171", "长沙经济开发区", "4301"),
    )
    map_names = {"430000": "湖南省", "431100": "永州市", "431121": "祁阳市", "431102": "零陵区", "410000": "河南省",
                 "419001": "济源市", "650000": "新疆维吾尔自治区", "659001": "石河子市", "430100": "长沙市"}
    cw = build_crosswalk(divs, map_names)
    assert cw.same_code["43"] == "430000" and cw.same_code["431102"] == "431102"
    assert cw.by_name == {"431181": "431121"}  # re-coded county, same name, same prefecture
    assert cw.derived == {"4190": ["419001"]}  # placeholder prefecture: every county has geometry
    assert cw.missing == {"prefecture": ["6590"], "county": ["430171", "659012"]}  # 白杨市 missing -> 6590 too
    counts = cw.counts(divs)
    assert counts["county"] == {"total": 6, "same_code": 3, "by_name": 1, "sole_county": 0, "derived": 0,
                                "missing": 2}
    assert counts["prefecture"]["derived"] == 1 and counts["prefecture"]["missing"] == 1


def test_no_match_across_prefectures_or_when_ambiguous() -> None:
    divs = divisions(("11", "甲省", None), ("1101", "甲市", "11"), ("110181", "新城区", "1101"),
                     ("1102", "乙市", "11"), ("110281", "东区", "1102"))
    map_names = {"110000": "甲省", "110100": "甲市", "110200": "乙市",
                 "110321": "新城区",  # same name, other prefecture: not a match
                 "110221": "东区", "110222": "东区"}  # two candidates: ambiguous, not a match
    cw = build_crosswalk(divs, map_names)
    assert cw.by_name == {}
    assert cw.missing == {"county": ["110181", "110281"]}


def test_a_map_code_that_is_still_a_2023_code_is_never_borrowed() -> None:
    divs = divisions(("11", "甲省", None), ("1101", "甲市", "11"), ("110101", "城区", "1101"),
                     ("110181", "城区", "1101"))
    cw = build_crosswalk(divs, {"110000": "甲省", "110100": "甲市", "110101": "城区"})
    assert cw.same_code["110101"] == "110101"
    assert "110181" not in cw.by_name and cw.missing == {"county": ["110181"]}


def test_a_county_turned_city_and_the_sole_county_of_a_prefecture() -> None:
    divs = divisions(("54", "西藏自治区", None), ("5404", "林芝市", "54"), ("540481", "米林市", "5404"),
                     ("540402", "巴宜区", "5404"), ("62", "甘肃省", None), ("6202", "嘉峪关市", "62"),
                     ("620201", "嘉峪关市", "6202"), ("6203", "金昌市", "62"), ("620321", "永昌县", "6203"),
                     ("620302", "金川区", "6203"))
    map_names = {"540000": "西藏自治区", "540400": "林芝市", "540422": "米林县", "540402": "巴宜区",
                 "620000": "甘肃省", "620200": "嘉峪关市", "620300": "金昌市", "620302": "金川区"}
    cw = build_crosswalk(divs, map_names)
    assert cw.by_name == {"540481": "540422"}  # 米林县 -> 米林市: 撤县设市, same stem
    assert cw.sole_county == {"620201": "620200"}  # the prefecture's land is its only county's
    assert cw.missing == {"county": ["620321"]}  # one of two counties: not its prefecture's land
    assert cw.source_of("620201") == "620200"
