#!/usr/bin/env bash
# Isolation gateways: nftables (nft -c on compiled rulesets, namespaces for load tests) and iproute2.
set -euo pipefail
need=()
for pkg in nftables iproute2 util-linux; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
