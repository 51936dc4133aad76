"""What every collector gets: a read connection, the clock, and which tables exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection


@dataclass(frozen=True)
class CollectContext:
    conn: Connection
    store: Any  # cloudctl.store.Store, for library functions that open their own connections
    now: float  # epoch seconds
    tables: frozenset[str]

    @property
    def today(self) -> date:
        """The configured zone's date at `now` (the one clock's "today")."""
        from cloudctl import clock

        return datetime.fromtimestamp(self.now, clock.current().zone).date()

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    def columns(self, table: str) -> frozenset[str]:
        from sqlalchemy import inspect

        return frozenset(c["name"] for c in inspect(self.conn).get_columns(table))
