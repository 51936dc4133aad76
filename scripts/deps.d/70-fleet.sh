#!/usr/bin/env bash
# Fleet scale (issue 12): wrk drives the heartbeat load (benchmarks/fleet.py, tests/fleet) and
# HAProxy balances two API replicas in tests/fleet. Both only installed: apt does not start
# haproxy's service here (policy-rc.d), and the tests run their own on 127.0.0.1.
set -euo pipefail
need=()
for pkg in wrk haproxy; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  # the package's service must not start: tests start their own haproxy with their own config
  printf '#!/bin/sh\nexit 101\n' > /tmp/cloudctl-policy-rc.d
  had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ "$had_policy" = 1 ] || install -m 755 /tmp/cloudctl-policy-rc.d /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
fi
