#!/usr/bin/env bash
# A short demo of every capability on bundled data, with all its set-up: `./scripts/demo.sh`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec .venv/bin/python scripts/demo.py "$@"
