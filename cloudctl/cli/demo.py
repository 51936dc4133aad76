"""cloudctl demo: shipped divisions, a generated link history 2009 → today, targets, a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cloudctl.cli.context import AppContext, creates_store
from cloudctl.cli.output import OUTPUT_DIR, emit_json, emit_rows, format_option
from cloudctl.cli.params import ISO_DATE
from cloudctl.cli.perform import performs


@click.command("demo")
@click.option("--out", "out", type=OUTPUT_DIR,
              default=Path("coverage_reports") / "demo", show_default=True, help="Report directory.")
@click.option("--as-of", type=ISO_DATE, default=None, help="Date of the report's figures (default: today).")
@click.option("--seed", type=int, default=None, help="Seed of the generated history (default: the fixed one).")
@format_option()
@performs("cloudctl.coverage.actions:DEMO", progress="demo")
@creates_store
def demo(app: AppContext, result: Any, fmt: str) -> None:
    """Load the shipped divisions, generate a deterministic link history whose coverage on 2015-05-31
    reproduces the published national figures, set demo targets and write a report."""
    from cloudctl.coverage.demo import SNAPSHOT
    from cloudctl.coverage.report.sources import CoverageSource

    out = Path(click.get_current_context().params["out"])
    snap = CoverageSource(app.store, SNAPSHOT).rollup(None)
    report_levels = {lv["level"]: lv for lv in result.report["levels"]}
    rows = []
    for target in result.snapshot:
        got = snap.level(target.level)
        now = report_levels.get(target.level)
        rows.append({"level": target.level, "total": target.total, "published_2015": target.published,
                     "covered_2015": got.covered if got else 0, "ratio_2015": round(got.ratio, 6) if got else 0.0,
                     "covered_now": now["covered"] if now else 0, "ratio_now": now["ratio"] if now else 0.0})
    index = out / "index.html"
    notes = [t.note for t in result.snapshot if t.note]
    if fmt == "json":
        emit_json({"report": str(index), "links": result.links, "inserted": result.inserted,
                   "updated": result.updated, "unchanged": result.unchanged, "removed": result.removed,
                   "snapshot": SNAPSHOT.isoformat(), "levels": rows, "notes": notes})
        return
    to_stderr = fmt != "table"  # keep CSV on stdout parseable
    click.echo(f"report: {index}", err=to_stderr)
    click.echo(f"links: {result.links} ({result.inserted} new, {result.updated} updated, "
               f"{result.unchanged} unchanged, {result.removed} removed)", err=to_stderr)
    if fmt == "csv":
        emit_rows(rows, list(rows[0]), fmt)
    else:  # compact enough for an 80-column terminal
        table = [{"level": r["level"], "total": r["total"], "published": f"{r['published_2015'] * 100:.1f} %",
                  "2015": r["covered_2015"], "2015 %": f"{r['ratio_2015'] * 100:.1f} %",
                  "now": r["covered_now"], "now %": f"{r['ratio_now'] * 100:.1f} %"} for r in rows]
        emit_rows(table, list(table[0]), fmt,
                  title=f"Covered on {SNAPSHOT} (published national figures) and now ({result.report['as_of']})")
    for note in notes:
        click.echo(f"note: {note}", err=to_stderr)
