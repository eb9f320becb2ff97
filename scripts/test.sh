#!/usr/bin/env bash
# The test suite, with all its set-up: `./scripts/test.sh [PYTEST ARGS...]`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
export PYTHONHASHSEED=0
echo "[test] ruff"
.venv/bin/ruff check .
echo "[test] pytest"
set +e
.venv/bin/python -m pytest -n "${IRTOOLS_TEST_WORKERS:-2}" --timeout=900 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "[test] pytest collected no tests"; fi
exit "$rc"
