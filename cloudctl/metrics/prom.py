"""The exposition adapter: the only cloudctl module that imports prometheus_client.

It adds the process's own metrics (CPU, memory, file descriptors) to /metrics and parses
exposition text for checks, so the rest of cloudctl.metrics stays free of the library.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.parser import text_string_to_metric_families


class ProcessMetrics:
    """process_* metrics of this process, rendered by prometheus_client."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)

    def __call__(self) -> str:
        return generate_latest(self.registry).decode("utf-8")


def parse_exposition(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples per family name, as a Prometheus client would read them (for checks and tests)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out
