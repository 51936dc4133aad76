"""Coverage reports for planners: one dict of figures (the JSON twin) rendered as HTML, CSV, Markdown.

    data = build_report(store, ReportOptions(as_of=date(2015, 5, 31)))
    write_report(data, Path("coverage_reports/2015"))
"""

from cloudctl.coverage.report.data import ReportOptions, build_report
from cloudctl.coverage.report.writers import write_report

__all__ = ["ReportOptions", "build_report", "write_report"]
