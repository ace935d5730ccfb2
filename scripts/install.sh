#!/usr/bin/env bash
# Installs e6magic with JupyterLab into ./.venv from this repo's own files; with --test the test extras, peers and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

if [ "${1:-}" != "--test" ]; then
    .venv/bin/python -m pip install -q -e '.[notebook]'
    exit 0
fi

.venv/bin/python -m pip install -q -e '.[test]'
# The official connector 2.3.15 is a second test peer beside 3.0.2 (in the venv); its dependencies are
# the same as 3.0.2's, so it goes into its own folder that tests put first on a subprocess's PYTHONPATH.
if [ ! -f .peers/e6data-2.3.15/e6data_python_connector/__init__.py ]; then
    .venv/bin/python -m pip install -q --no-deps --target .peers/e6data-2.3.15 e6data-python-connector==2.3.15
fi
# Browser tests drive Debian's Chromium through Playwright (no `playwright install`: nothing downloads).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is missing: run 'sudo apt-get install -y chromium' for the browser tests" >&2
        exit 1
    fi
fi
