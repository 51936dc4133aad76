"""Tables of the gateway capability (defined by its migration branch in store/migrations/versions)."""

from cloudctl.store.tables.base import metadata  # noqa: F401
