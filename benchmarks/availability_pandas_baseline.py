"""The peer of `cloudctl coverage availability --from D1 --to D2 --level L --worst N --format json`:
the same figures computed with pandas from an export of the intervals.

  python3 benchmarks/availability_pandas_baseline.py INTERVALS_CSV LINKS_CSV DIVISIONS_DIR D1 D2 \
      [--zone Asia/Shanghai] [--level township] [--worst N] [--timings]

Inputs: the export `cloudctl coverage intervals --from D1 --to D2 --format csv` wrote (link_id,
division_code, state up|down, start, end in UTC ISO 8601; time outside the rows is unknown), the
links CSV `cloudctl links import` took (activation and retirement days) and the official division
file of the listed level (for names). The definitions are those of docs/availability.md: a link is observed from the
start of max(D1, activated_on) to the start of min(D2 + 1, retired_on) in the zone, cut at now;
availability = up / (up + down); outages = down intervals overlapping that span; MTTR = downtime /
outages; unknown = span - up - down; divisions and levels add up their links. Written the way a
careful analyst would: only the needed columns, vectorised clipping, one groupby per roll-up.
--timings adds each step's time as JSON on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

STARTED = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

LEVEL_LENGTHS = {"province": 2, "prefecture": 4, "county": 6, "township": 9, "village": 12}
LEVEL_OF = {v: k for k, v in LEVEL_LENGTHS.items()}
FILES = {"province": "provinces", "prefecture": "cities", "county": "areas", "township": "streets"}


def figures(g: pd.DataFrame) -> dict[str, object]:
    """The JSON figures of one row of sums (links, span, up, down, outages), as cloudctl prints them."""
    links, span, up, down, outages = (int(g[k]) for k in ("links", "span", "up", "down", "outages"))
    known = up + down
    return {"links": links, "availability_ratio": round(up / known, 6) if known else None,
            "up_seconds": up / 1000, "downtime_seconds": down / 1000, "unknown_seconds": (span - up - down) / 1000,
            "observed_seconds": span / 1000, "outages": outages,
            "mttr_seconds": round(down / outages / 1000, 3) if outages else None}


def worst_first(df: pd.DataFrame, key: str) -> pd.DataFrame:
    known = df["up"] + df["down"]
    df = df.assign(_ratio=(df["up"] / known.where(known > 0)), _unknown=df["span"] - known)
    return df.sort_values(["_ratio", "down", "_unknown", key], ascending=[True, False, False, True],
                          na_position="last", kind="stable")


def epoch_ms(times: pd.Series) -> pd.Series:
    return (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)


def iso(ms: int) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat(timespec="milliseconds")


def main() -> None:
    ap = argparse.ArgumentParser()
    for name in ("intervals", "links", "divisions", "first", "last"):
        ap.add_argument(name)
    ap.add_argument("--zone", default="Asia/Shanghai")
    ap.add_argument("--level", default="township")
    ap.add_argument("--worst", type=int, default=None)
    ap.add_argument("--timings", action="store_true")
    args = ap.parse_args()
    steps = {"import pandas": time.perf_counter() - STARTED}
    t = time.perf_counter()

    iv = pd.read_csv(args.intervals, dtype={"link_id": str, "division_code": str, "state": str})
    for col in ("start", "end"):
        iv[col] = epoch_ms(pd.to_datetime(iv[col], format="ISO8601", utc=True))
    links = pd.read_csv(args.links, usecols=["link_id", "division_code", "activated_on", "retired_on"], dtype=str)
    names = pd.read_csv(f"{args.divisions}/{FILES[args.level]}.csv.gz", usecols=["code", "name"],
                        dtype=str).set_index("code")["name"]  # only the listed level's names are printed
    steps["read the intervals, links and names"], t = time.perf_counter() - t, time.perf_counter()

    def day_ms(days: pd.Series) -> pd.Series:
        return epoch_ms(pd.to_datetime(days).dt.tz_localize(args.zone))

    first, last = pd.Timestamp(args.first), pd.Timestamp(args.last)
    p0 = int(day_ms(pd.Series([first])).iloc[0])
    p1 = min(int(day_ms(pd.Series([last + pd.Timedelta(days=1)])).iloc[0]), int(time.time() * 1000))
    active = (links["activated_on"] <= args.last) & (links["retired_on"].isna() | (links["retired_on"] > args.first))
    links = links[active].copy()
    links["a"] = np.maximum(day_ms(links["activated_on"]), p0)
    ret = links["retired_on"].fillna(args.last)
    links["b"] = np.where(links["retired_on"].notna() & (links["retired_on"] <= args.last), day_ms(ret), p1)
    links["b"] = np.minimum(links["b"], p1)
    links = links[links["a"] < links["b"]].set_index("link_id")

    iv = iv.join(links[["a", "b"]], on="link_id", how="inner")
    iv["s"] = np.maximum(iv["start"], iv["a"])
    iv["e"] = np.minimum(iv["end"], iv["b"])
    iv = iv[iv["e"] > iv["s"]]
    iv["dur"] = iv["e"] - iv["s"]
    down = iv["state"] == "down"
    per = pd.DataFrame({"up": iv["dur"].where(~down, 0), "down": iv["dur"].where(down, 0),
                        "outages": down.astype("int64"), "link_id": iv["link_id"]}).groupby("link_id").sum()
    per = links[["division_code", "a", "b"]].join(per).fillna({"up": 0, "down": 0, "outages": 0})
    per[["up", "down", "outages"]] = per[["up", "down", "outages"]].astype("int64")
    per["span"] = per["b"] - per["a"]
    per["links"] = 1
    sums = ["links", "span", "up", "down", "outages"]
    per["length"] = per["division_code"].str.len()
    total = per[sums].sum()
    levels = per.groupby("length")[sums].sum()
    length = LEVEL_LENGTHS[args.level]
    below = per[per["length"] >= length]
    divisions = worst_first(below.assign(code=below["division_code"].str[:length]).groupby("code")[sums].sum()
                            .reset_index(), "code")
    worst_links = worst_first(per.reset_index(), "link_id")
    if args.worst:
        divisions, worst_links = divisions.head(args.worst), worst_links.head(args.worst)
    listed = iv[down & iv["link_id"].isin(worst_links["link_id"])].sort_values(["link_id", "s"])
    outages = {k: [{"start": iso(s), "end": iso(e), "seconds": (e - s) / 1000} for s, e in zip(g["s"], g["e"],
                                                                                                strict=True)]
               for k, g in listed.groupby("link_id")}
    steps["clip, sum, roll up, rank"], t = time.perf_counter() - t, time.perf_counter()

    out = {"from": args.first, "to": args.last, "total": figures(total),
           "levels": [{"level": LEVEL_OF[int(n)], **figures(r)} for n, r in levels.iterrows()],
           "divisions": [{"code": r["code"], "name": names.get(r["code"], ""), "level": args.level, **figures(r)}
                         for _, r in divisions.iterrows()],
           "links": [{"link_id": r["link_id"], "division_code": r["division_code"],
                      "division_name": names.get(r["division_code"], ""), **figures(r),
                      **({"outage_intervals": outages.get(r["link_id"], [])} if args.worst else {})}
                     for _, r in worst_links.iterrows()]}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    steps["render JSON"] = time.perf_counter() - t
    if args.timings:
        sys.stderr.write(json.dumps(steps) + "\n")


if __name__ == "__main__":
    main()
