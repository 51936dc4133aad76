#!/usr/bin/env bash
# The namespace lab (tests/lab): hosts as network namespaces with their own sshd, nftables
# on the gateway, Ansible over SSH. ansible-core, ansible-runner and ansible-lint come from
# pyproject.toml. apt does not start sshd here: the lab starts one sshd per namespace.
set -euo pipefail
need=()
for pkg in openssh-server openssh-client nftables iproute2 iputils-ping util-linux procps; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p /run/sshd
