#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian (bookworm) machine: apt packages, a virtual
# environment in .venv, and the install of irtools with its C core.  Sourced by demo.sh
# and test.sh; safe to run again (it only does what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# chromium: tests/test_report_browser.py loads the fuzz report in a real headless browser
APT_PACKAGES=(clang-22 llvm-22 mlir-22-tools lld-22 valgrind build-essential python3-venv python3-dev git chromium)
need_apt=()
for tool in clang-22 llvm-as-22 llc-22 opt-22 mlir-opt-22 mlir-translate-22 valgrind cc chromium; do
  command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool")
done
if ((${#need_apt[@]})); then
  echo "[setup] installing Debian packages (missing: ${need_apt[*]})"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${APT_PACKAGES[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
  .venv/bin/pip install -q -U pip
fi

# The distribution was called irtools before it became irtoolkit (#18): the metadata of an old install
# (in .venv, or irtools.egg-info left in the checkout by an editable build) would register the
# commands a second time, under the apps' old module names.
rm -rf irtools.egg-info
if .venv/bin/pip show -q irtools >/dev/null 2>&1; then
  echo "[setup] removing the old irtools distribution (now irtoolkit)"
  .venv/bin/pip uninstall -q -y irtools
fi

# Reinstall only when the dependency list changed; the C core is rebuilt in place every time
# (a few seconds) so that a checkout that changed csrc/ never runs a stale build.
stamp=.venv/.irtools-installed
want="$(sha256sum pyproject.toml setup.py | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing irtoolkit and its dependencies into .venv (first run: a few minutes)"
  .venv/bin/pip install -q -e '.[all]'
  echo "$want" > "$stamp"
fi
.venv/bin/python irtools/_build.py >/dev/null
echo "[setup] ready: $(.venv/bin/irtools --version)"
