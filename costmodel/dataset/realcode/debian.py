"""Building one Debian source package with the IR wrapper: fetch, build-deps, ``dpkg-buildpackage``.

Nothing here knows about Ray: :func:`build_package` is a plain function (the corpus driver runs it as
a Ray task) that returns a :class:`BuildResult` and leaves the IR modules in ``out/ir``.  Every way a
package can fail (no source, unsatisfiable build-deps, a build error, a hang) becomes a result with a
reason, never an exception that stops the corpus.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Kept for an independent evaluation: never built, trained, tuned or evaluated on.
RESERVED = frozenset({"sqlite3", "coreutils", "lua5.4", "zstd", "bzip2", "libpng1.6", "pcre2", "expat"})

WRAPPED = ("gcc", "cc", "g++", "c++", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++",
           "gcc-12", "g++-12", "x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-g++-12")
SOURCES_FILE = Path("/etc/apt/sources.list.d/irtools-deb-src.sources")
SOURCES_TEXT = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
# a clean PATH: pip-installed tools (pyenv shims, CMake 4) must not shadow Debian's in a package build
BUILD_PATH = "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
_APT_LOCK = Path("/tmp/irtools-apt.lock")


class Reserved(ValueError):
    """A package kept for independent evaluation was asked for."""


@dataclass
class BuildResult:
    package: str
    status: str                   # "built", "failed" (reason says why), "reserved"
    reason: str = ""
    version: str = ""
    license: str = ""
    seconds: float = 0.0
    modules: int = 0              # IR modules side-compiled
    side_failures: int = 0        # translation units clang-22 could not compile
    node: str = ""
    attempts: int = 1
    log_tail: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def check_allowed(package: str) -> None:
    if package in RESERVED:
        raise Reserved(f"{package} is reserved for independent evaluation and is never built here")


def _sudo() -> list[str]:
    return [] if os.geteuid() == 0 else ["sudo", "-n"]


def _apt(args: list[str], timeout: float, log) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "PATH": BUILD_PATH}
    with open(_APT_LOCK, "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)       # one apt at a time on a node, whatever the worker count
        p = subprocess.run([*_sudo(), "apt-get", "-q", "-o", "DPkg::Lock::Timeout=600", *args],
                           capture_output=True, text=True, timeout=timeout, env=env)
    log.write(f"$ apt-get {' '.join(args)}\n{p.stdout[-4000:]}{p.stderr[-4000:]}\n")
    return p


def node_setup(log=sys.stderr) -> None:
    """What every node needs before it builds: Debian's source index and the tools (idempotent)."""
    missing = [t for t in ("clang-22", "clang++-22", "llc-22", "dpkg-buildpackage", "dpkg-source", "valgrind")
               if not shutil.which(t)]
    if missing:
        p = _apt(["install", "-y", "clang-22", "llvm-22", "dpkg-dev", "build-essential", "fakeroot", "valgrind"],
                 1800, log)
        if p.returncode:
            raise RuntimeError(f"cannot install the build tools: {p.stderr.strip()[-500:]}")
    have_src = SOURCES_FILE.exists() or any(
        "deb-src" in f.read_text(errors="replace") for f in Path("/etc/apt/sources.list.d").glob("*")
        if f.is_file())
    if not have_src:
        subprocess.run([*_sudo(), "tee", str(SOURCES_FILE)], input=SOURCES_TEXT, text=True,
                       capture_output=True, check=True)
    stamp = Path("/tmp/irtools-apt-src.stamp")
    if not stamp.exists() or time.time() - stamp.stat().st_mtime > 86400:
        p = _apt(["update"], 900, log)
        if p.returncode:
            raise RuntimeError(f"apt-get update failed: {p.stderr.strip()[-500:]}")
        stamp.touch()


def install_wrapper(folder: Path) -> Path:
    """A folder whose compilers are the IR wrapper (put it first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "irtools-ccwrap"
    body = (Path(__file__).with_name("wrapper.py")).read_text()
    script.write_text("#!/usr/bin/python3 -S\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    for name in WRAPPED:
        link = folder / name
        if not link.exists():
            link.symlink_to(script.name)
    return folder


_LICENSE = re.compile(r"^License:\s*(\S.*)$", re.M)


def read_license(src: Path) -> str:
    """The licence of the package's main files: the first ``License:`` of a DEP-5 ``debian/copyright``."""
    try:
        text = (src / "debian" / "copyright").read_text(errors="replace")
    except OSError:
        return "unknown"
    m = _LICENSE.search(text)
    return m.group(1).strip()[:120] if m else "unknown (not machine-readable)"


def _reason(log_text: str) -> str:
    """The most telling line of a failed build's log: the first error, else the last line."""
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    for pat in (r"\berror:", r"^E: ", r"Error \d+", r"dpkg-buildpackage: error"):
        for ln in lines:
            if re.search(pat, ln):
                return ln[:300]
    return lines[-1][:300] if lines else "no output"


def run_logged(argv: list[str], cwd: Path, env: dict, timeout: float, log_path: Path) -> tuple[int | None, str]:
    """Run in its own process group; on time-out kill the whole group (make's children too)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    return rc, log_path.read_text(errors="replace")[-20000:]


def build_package(package: str, out: Path, *, jobs: int = 1, timeout: float = 1800, exec_objects: bool = False,
                  on_built: Callable[[Path, dict], None] | None = None) -> BuildResult:
    """Fetch, install build-deps and build ``package``; its IR modules land in ``out/ir``.

    ``out`` is this package's own folder (emptied first).  The source tree is removed afterwards.
    ``exec_objects`` makes each one-source object llc-22's code for the unit's IR (see ``wrapper``);
    ``on_built(source_tree, build_env)`` runs after a successful build, before the tree goes.
    """
    check_allowed(package)
    t0 = time.time()
    if out.exists():
        shutil.rmtree(out)
    (out / "ir").mkdir(parents=True)
    work = out / "src"
    work.mkdir()
    res = BuildResult(package, "failed", node=os.uname().nodename)
    with open(out / "build.log", "w") as log:
        p = subprocess.run(["apt-get", "-q", "source", package], cwd=work, capture_output=True, text=True,
                           timeout=900, env={**os.environ, "PATH": BUILD_PATH})
        log.write(p.stdout[-4000:] + p.stderr[-4000:])
        if p.returncode:
            res.reason = "source: " + _reason(p.stderr or p.stdout)
            return _done(res, t0, work)
        dsc = sorted(work.glob("*.dsc"))
        m = re.search(r"^Version:\s*(\S+)", dsc[0].read_text(errors="replace"), re.M) if dsc else None
        res.version = m.group(1) if m else ""
        p = _apt(["build-dep", "-y", "--arch-only", package], 1800, log)
        if p.returncode:
            res.reason = "build-deps: " + _reason(p.stderr or p.stdout)
            return _done(res, t0, work)
    srcdirs = [d for d in work.iterdir() if d.is_dir() and (d / "debian").is_dir()]
    if not srcdirs:
        res.reason = "source: no unpacked tree with debian/"
        return _done(res, t0, work)
    src = srcdirs[0]
    res.license = read_license(src)
    wrap = install_wrapper(out / "wrap")
    env = {"PATH": f"{wrap}:{BUILD_PATH}", "HOME": str(out), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
           "DEB_BUILD_OPTIONS": f"nocheck nodoc parallel={jobs}", "IRTOOLS_IR_OUT": str(out / "ir"),
           "CCACHE_DISABLE": "1", "TERM": "dumb", **({"IRTOOLS_EXEC_OBJECTS": "1"} if exec_objects else {})}
    # -T build-arch stops after the compile: the binary phase (install, strip, shlibdeps, dpkg-deb) adds
    # time and no translation unit
    rc, tail = run_logged(["dpkg-buildpackage", "-B", "-uc", "-us", "-d", "-T", "build-arch"], src, env, timeout,
                          out / "build.log")
    res.log_tail = tail.splitlines()[-30:]
    if rc is None:
        res.reason = f"timeout: no result after {timeout:.0f} s"
    elif rc != 0:
        res.reason = "build: " + _reason(tail)
    else:
        res.status = "built"
    metas = list((out / "ir").glob("*.json"))
    res.modules = sum(1 for f in metas if not f.name.endswith(".failed.json"))
    res.side_failures = len(metas) - res.modules
    if res.status == "built" and res.modules == 0:
        res.status, res.reason = "failed", "no C/C++ translation unit compiled (not a C/C++ package?)"
    if res.status == "built" and on_built is not None:
        on_built(src, env)
    return _done(res, t0, work, src)


def _done(res: BuildResult, t0: float, work: Path, src: Path | None = None) -> BuildResult:
    res.seconds = round(time.time() - t0, 1)
    if src is not None:
        # paths in the IR metadata are relative to the source root from here on
        for f in (work.parent / "ir").glob("*.json"):
            meta = json.loads(f.read_text())
            meta["source_rel"] = os.path.relpath(meta["source"], src) if meta["source"].startswith(str(src)) \
                else meta["source"]
            f.write_text(json.dumps(meta))
    shutil.rmtree(work, ignore_errors=True)
    return res
