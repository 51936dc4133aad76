"""The report tests' small store (tests/reports/conftest.py) for the availability section's tests."""

from tests.reports.conftest import small_sqlite_store, small_store  # noqa: F401
