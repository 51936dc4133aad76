#!/usr/bin/env bash
# Real OpenStack for the cloud tests (issue 3): RabbitMQ, MariaDB (Neutron's database) and memcached
# (Keystone's cache) from Debian, the services from PyPI in their own venv
# (scripts/openstack-dev install; idempotent, seconds when already installed).
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
for pkg in rabbitmq-server mariadb-server memcached libmariadb-dev pkg-config python3-venv python3-dev gcc curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
scripts/openstack-dev install
