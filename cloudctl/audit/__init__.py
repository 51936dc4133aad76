"""The append-only, hash-chained audit log: every change and every permission decision."""

from cloudctl.audit.log import Actor, Change, list_entries, record_change, record_changes, verify_chain

__all__ = ["Actor", "Change", "list_entries", "record_change", "record_changes", "verify_chain"]
