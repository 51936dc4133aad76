"""Extranet links, coverage roll-up, targets, connection planning and reports."""
