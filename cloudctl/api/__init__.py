"""The central HTTP API (FastAPI): agent enrolment and heartbeats, probe configuration, the
coverage summary, /metrics and /healthz. Create it with cloudctl.api.app.create_app(store)."""
