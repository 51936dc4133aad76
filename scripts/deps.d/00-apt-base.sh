#!/usr/bin/env bash
# Debian packages shared by several capabilities. apt does not start services here.
set -euo pipefail
need=()
for pkg in postgresql chromium fonts-noto-cjk curl iproute2; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
