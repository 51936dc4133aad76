#!/usr/bin/env bash
# Agent deployment (tests/agent_deploy): the tests build a cloudctl wheel from the checkout for
# playbooks/deploy-agent.yml; setuptools before 70.1 needs the `wheel` package for bdist_wheel.
set -euo pipefail
python3 -c "import wheel" 2>/dev/null || \
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore wheel
