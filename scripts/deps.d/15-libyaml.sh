#!/usr/bin/env bash
# cloudctl.inputs reads YAML with libyaml (PyYAML's C parser): the wheels on PyPI bundle it; a
# PyYAML built from source without it is rebuilt against libyaml-dev. Idempotent.
set -euo pipefail
if python3 -c 'import yaml, sys; sys.exit(0 if yaml.__with_libyaml__ else 1)'; then
  exit 0
fi
echo "PyYAML has no libyaml: installing libyaml-dev and rebuilding PyYAML" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends libyaml-dev >/dev/null
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  --force-reinstall --no-deps --no-binary pyyaml 'pyyaml>=6'
python3 -c 'import yaml; assert yaml.__with_libyaml__, "PyYAML still has no libyaml"'
