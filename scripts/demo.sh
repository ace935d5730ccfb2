#!/usr/bin/env bash
# Installs e6magic with JupyterLab into ./.venv, runs a terminal tour of %%e6sql, then says how to open the notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python examples/demo.py
cat <<'NEXT'

The same in a notebook: JupyterLab on the example notebooks, which open with the "Python 3 (e6magic)" kernel:

    .venv/bin/jupyter lab examples/notebooks/
NEXT
