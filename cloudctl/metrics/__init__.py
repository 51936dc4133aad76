"""Prometheus exposition of the store: custom collectors over whole columns, cached until the
data changes. Only cloudctl.metrics.prom imports prometheus_client."""

from cloudctl.metrics.exposition import CONTENT_TYPE, Exposition
from cloudctl.metrics.family import Family, render

__all__ = ["CONTENT_TYPE", "Exposition", "Family", "render"]
