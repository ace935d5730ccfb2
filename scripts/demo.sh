#!/usr/bin/env bash
# Installs e6magic into ./.venv and runs a terminal tour of %%e6sql against the embedded local engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python examples/demo.py
