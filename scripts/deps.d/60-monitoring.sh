#!/usr/bin/env bash
# Monitoring: Debian's Prometheus (promtool) and Alertmanager (amtool). apt does not start
# services here; the tests start their own on 127.0.0.1 with temporary data directories.
set -euo pipefail
need=()
for pkg in prometheus prometheus-alertmanager; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Dashboards are built with grafana-foundation-sdk (a test dependency of monitoring/dashboards).
python3 -c "import grafana_foundation_sdk" 2>/dev/null || \
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore grafana-foundation-sdk
