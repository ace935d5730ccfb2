#!/usr/bin/env bash
# Redraws the screenshots in docs/img from the browser tests that check what they show (docs/screenshots.md).
# Needs the test extras (scripts/install.sh --test) and /usr/bin/chromium; pytest args pass through (-k ...).
set -euo pipefail
cd "$(dirname "$0")/.."
E6MAGIC_SCREENSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider -n "${E6MAGIC_TEST_WORKERS:-2}" \
    --dist loadfile tests/widgets/test_browser.py tests/widgets/test_reload.py tests/widgets/test_notebook7.py \
    tests/widgets/test_grid_themes.py "$@"
