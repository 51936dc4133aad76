"""The append-only, hash-chained audit log: every change and every permission decision."""

from cloudctl.audit.log import Actor, list_entries, record_change, verify_chain

__all__ = ["Actor", "list_entries", "record_change", "verify_chain"]
