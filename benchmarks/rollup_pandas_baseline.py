"""The peer of `cloudctl coverage summary --as-of D --by-child --format json` for the country:
the same figures computed with pandas straight from the raw files.

  python3 benchmarks/rollup_pandas_baseline.py DIVISIONS_DIR LINKS_CSV YYYY-MM-DD [--timings]

Reads the five official division files (provinces ... villages, .csv.gz) and the links CSV
(the file `cloudctl links import` took), and prints the same JSON shape as cloudctl:
country levels, then every province with its levels (total, covered, ratio). A division is
covered on D when one of its own links has activated_on <= D and no retired_on, or
retired_on > D (docs/coverage.md). Written the way a careful analyst would: only the
needed columns, codes as strings, vectorised isin and groupby. --timings adds the time of
each step as JSON on stderr (benchmarks/rollup_cli.py prints them beside its headline).
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.perf_counter()
import pandas as pd  # noqa: E402

FILES = ("provinces", "cities", "areas", "streets", "villages")
LEVELS = ("province", "prefecture", "county", "township", "village")


def level_rows(counts: pd.DataFrame) -> list[dict[str, object]]:
    return [{"level": LEVELS[int(lv) - 1], "total": int(r["size"]), "covered": int(r["sum"]),
             "ratio": round(int(r["sum"]) / int(r["size"]), 6)} for lv, r in counts.iterrows()]


def main(divisions_dir: str, links_csv: str, as_of: str, timings: bool = False) -> None:
    steps = {"import pandas": time.perf_counter() - STARTED}
    t = time.perf_counter()
    frames = [pd.read_csv(f"{divisions_dir}/{name}.csv.gz", usecols=["code", "name"] if level == 1 else ["code"],
                          dtype=str).assign(level=level) for level, name in enumerate(FILES, start=1)]
    provinces = frames[0]
    divisions = pd.concat(frames, ignore_index=True)
    steps["read the five division files"], t = time.perf_counter() - t, time.perf_counter()
    links = pd.read_csv(links_csv, usecols=["division_code", "activated_on", "retired_on"], dtype=str)
    steps["read the links CSV"], t = time.perf_counter() - t, time.perf_counter()
    active = links[(links["activated_on"] <= as_of) & (links["retired_on"].isna() | (links["retired_on"] > as_of))]
    divisions["covered"] = divisions["code"].isin(active["division_code"])
    divisions["province"] = divisions["code"].str[:2]
    country = divisions.groupby("level")["covered"].agg(["size", "sum"])
    per_province = divisions.groupby(["province", "level"])["covered"].agg(["size", "sum"])
    children = [{"code": code, "name": name, "levels": level_rows(per_province.loc[code])}
                for code, name in zip(provinces["code"], provinces["name"], strict=True)]
    steps["isin + groupby"], t = time.perf_counter() - t, time.perf_counter()
    json.dump({"as_of": as_of, "region": None, "levels": level_rows(country), "children": children},
              sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    steps["render JSON"] = time.perf_counter() - t
    if timings:
        sys.stderr.write(json.dumps(steps) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4], timings="--timings" in sys.argv[4:])
