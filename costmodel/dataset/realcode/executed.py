"""Instructions executed per call on real code: a package's own test suite under callgrind.

The package is built a second time with ``IRTOOLS_EXEC_OBJECTS=1``: each one-source object is then
``llc-22``'s code for the very IR the static labels come from (see ``wrapper``).  ``dh_auto_test``
(the suite Debian runs: ``make check``, ``ctest``, ``meson test``...) then runs under
``valgrind --tool=callgrind --trace-children=yes``, one dump per process.  For every function of the
package's own binaries (objects under the source tree) the dumps give the calls made to it and the
instructions executed inside those calls, callees included; the label is their ratio, over all the
suite's processes.

A function counts only when the name is unambiguous: defined by exactly one body among the package's
substituted units and by none of its other units (a static helper with the same name in two files
cannot be told apart in a dump).  Recursive calls of a function to itself are neither calls nor
cost of it: the label is the cost of one call from outside.  Functions the suite never calls, or
only inlined, have no label.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path

from .debian import build_package, run_logged
from .label import function_bodies

TARGET = "instructions_executed"
# System tools a suite runs by the thousand (compare outputs, make files) and that start nothing of the
# package: they run natively, which saves valgrind's start-up on each (most of a suite's time under it).
# Only their installed paths: a package's own ``sed`` or ``grep`` under test is traced.
LEAF_TOOLS = ("cat", "cmp", "diff", "grep", "egrep", "fgrep", "sed", "tr", "head", "tail", "wc", "sort", "uniq",
              "cut", "od", "rm", "mkdir", "rmdir", "cp", "mv", "ln", "ls", "chmod", "touch", "date", "sleep",
              "expr", "basename", "dirname", "printf", "echo", "true", "false", "test", "tee", "mktemp",
              "seq", "yes", "dd", "awk", "gawk", "mawk", "md5sum", "sha256sum", "cksum", "realpath", "readlink",
              "uname", "hostname", "id", "whoami", "stat", "install")
VALGRIND = ("valgrind", "--tool=callgrind", "--trace-children=yes", "--demangle=no", "--compress-strings=no",
            "--compress-pos=no", "--error-limit=no", "-q",
            "--trace-children-skip=" + ",".join(
                [f"{d}/{t}" for t in LEAF_TOOLS for d in ("/usr/bin", "/bin")]
                # the compilers, assembler and linker that ``make check`` runs to build its test programs
                # (the IR wrapper first on PATH included): minutes each under valgrind, nothing of the package
                + ["*/wrap/*", "/usr/bin/gcc*", "/usr/bin/g++*", "/usr/bin/cc", "/usr/bin/c++", "/usr/bin/cpp*",
                   "/usr/bin/x86_64-linux-gnu-*", "/usr/lib/gcc/*", "/usr/bin/ld*", "/usr/bin/as", "/usr/bin/ar",
                   "/usr/bin/ranlib", "/usr/bin/strip", "/usr/bin/pkg-config", "/usr/bin/clang*",
                   "/usr/bin/cmake", "/usr/bin/ninja"]))


def parse_dump(path: str | os.PathLike, keep_object) -> dict[str, list[int]]:
    """Function → [inclusive Ir of calls from outside, such calls, self Ir] of one callgrind dump,
    for functions whose ELF object passes ``keep_object``.  Expects ``--compress-strings=no``."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    ob = fn = cob = cfn = ""
    call_n = None          # the calls= line's count; the next cost line is the call's inclusive cost
    with open(path, errors="replace") as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if call_n is not None:
                    ir = int(line.split()[1]) if len(line.split()) > 1 else 0
                    callee_ob = cob or ob
                    # the inclusive cost callgrind gives each call: what one call from outside costs
                    if cfn != fn and keep_object(callee_ob):
                        rec = out[cfn]
                        rec[0] += ir
                        rec[1] += call_n
                    call_n, cob, cfn = None, "", ""
                elif keep_object(ob):
                    parts = line.split()
                    if len(parts) > 1:
                        out[fn][2] += int(parts[1])
                continue
            key, _, val = line.rstrip("\n").partition("=")
            if key == "ob":
                ob = val
            elif key == "fn":
                fn = val
            elif key == "cob":
                cob = val
            elif key == "cfn":
                cfn = val
            elif key == "calls":
                call_n = int(val.split()[0])
    return out


def exec_functions(ir_dir: Path, src_root: Path) -> dict[str, dict]:
    """Function name → its module and body, for the unambiguous functions of substituted units."""
    seen: dict[str, set] = defaultdict(set)
    where: dict[str, dict] = {}
    other: set[str] = set()
    for meta_f in sorted(ir_dir.glob("*.json")):
        if meta_f.name.endswith(".failed.json") or not meta_f.with_suffix(".ll").is_file():
            continue
        meta = json.loads(meta_f.read_text())
        text = meta_f.with_suffix(".ll").read_text(errors="replace")
        bodies = function_bodies(text)
        if not meta.get("exec_object"):
            other.update(bodies)
            continue
        sha = hashlib.sha256(text.encode()).hexdigest()
        for name, body in bodies.items():
            seen[name].add(body)
            where[name] = {"ir_sha256": sha, "function_sha": body,
                           "source_file": os.path.relpath(meta["source"], src_root)}
    return {n: where[n] for n, b in seen.items() if len(b) == 1 and n not in other}


def label_dumps(dumps: list[Path], functions: dict[str, dict], object_root: str) -> tuple[list[dict], int]:
    """Rows of the functions the dumps saw called, and how many dumps came from the package's binaries."""
    root = os.path.abspath(object_root).rstrip("/") + "/"
    keep = (lambda ob: ob.startswith(root))
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    procs = 0
    for d in dumps:
        part = parse_dump(d, keep)
        procs += bool(part)
        for name, (incl, calls, self_ir) in part.items():
            t = total[name]
            t[0] += incl
            t[1] += calls
            t[2] += self_ir
    rows = []
    for name, (incl, calls, self_ir) in sorted(total.items()):
        if name in functions and calls > 0:
            rows.append({**functions[name], "function": name, TARGET: round(incl / calls), "calls": calls,
                         "self_ir": self_ir, "inclusive_ir": incl})
    return rows, procs


_DH_LINE = re.compile(r"^\s*dh\s+\$(?:@|\{@\}|\(@\))(.*)$", re.M)
_DH_DIR_OPT = re.compile(r"^(--builddirectory|--builddir|--sourcedirectory|--sourcedir|--buildsystem|-[BDS])(=|$)?(.*)$")
_MAKE_CHECK = re.compile(r"(?:\$\(MAKE\)|\$\{MAKE\}|\bmake)\s+(?:-\S+\s+)*-C\s*([^\s$;]+)\s+(?:\S+=\S+\s+)*(check|test)\b")


def suite_command(src: Path) -> list[str]:
    """How Debian runs this package's suite: its rules' ``override_dh_auto_test`` target; else
    ``dh_auto_test`` with the build-directory options of its ``dh $@`` line; else (hand-written rules)
    the ``make -C DIR check`` they run."""
    try:
        rules = (src / "debian" / "rules").read_text(errors="replace")
    except OSError:
        return ["dh_auto_test"]
    for target in ("override_dh_auto_test-arch", "override_dh_auto_test"):
        if re.search(rf"^{re.escape(target)}\s*:", rules, re.M):
            return ["make", "-f", "debian/rules", target]
    m = _DH_LINE.search(rules)
    if m:
        opts, toks = [], m.group(1).split()
        for i, t in enumerate(toks):
            o = _DH_DIR_OPT.match(t)
            if not o or "$" in t:
                continue
            if o.group(3):
                opts.append(t)
            elif i + 1 < len(toks) and not toks[i + 1].startswith("-") and "$" not in toks[i + 1]:
                opts += [t, toks[i + 1]]
        return ["dh_auto_test", *opts]
    m = _MAKE_CHECK.search(rules)
    if m:
        return ["make", "-C", m.group(1), m.group(2)]
    return ["dh_auto_test"]


def run_suite(src: Path, cmd: list[str], build_env: dict, dumps: Path, timeout: float,
              log: Path) -> tuple[int | None, str]:
    """The package's suite ``cmd`` (:func:`suite_command`) in the built tree under callgrind; (exit
    status or None on time-out, log tail)."""
    dumps.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in build_env.items() if not k.startswith("IRTOOLS_")}
    env["DEB_BUILD_OPTIONS"] = "nodoc parallel=1"       # not "nocheck": that would skip the suite
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
    return run_logged([*VALGRIND, f"--callgrind-out-file={dumps}/cg.%p", *cmd], src, env, timeout, log)


def label_package(package: str, out: Path, *, jobs: int = 1, timeout: float = 1800,
                  suite_timeout: float = 1800) -> tuple[dict, list[dict]]:
    """Build ``package`` with llc-22's objects, run its suite under callgrind: (result, function rows)."""
    t0 = time.time()
    found: dict = {"rows": [], "suite": None}

    def on_built(src: Path, env: dict) -> None:
        cmd = suite_command(src)
        rc, tail = run_suite(src, cmd, env, out / "callgrind", suite_timeout, out / "suite.log")
        funcs = exec_functions(out / "ir", src)
        rows, procs = label_dumps(sorted((out / "callgrind").glob("cg.*")), funcs, str(src))
        found["rows"] = rows
        found["suite"] = {"rc": rc, "command": cmd, "package_processes": procs,
                          "substituted_functions": len(funcs),
                          "tail": tail.splitlines()[-15:]}

    res = build_package(package, out, jobs=jobs, timeout=timeout, exec_objects=True, on_built=on_built)
    suite = found["suite"]
    out_res = {"package": package, "version": res.version, "seconds": round(time.time() - t0, 1),
               "node": res.node, "functions": len(found["rows"]), "suite": suite}
    if res.status != "built":
        out_res.update(status="failed", reason=res.reason)
    elif suite["rc"] is None:
        out_res.update(status="failed" if not found["rows"] else "partial",
                       reason=f"suite: timeout after {suite_timeout:.0f} s")
    elif not found["rows"]:
        out_res.update(status="no-labels", reason="suite: ran none of the package's functions"
                       if not suite["package_processes"] else "suite: no unambiguous function was called")
    else:
        out_res.update(status="labelled", reason="" if suite["rc"] == 0 else f"suite: exit {suite['rc']}")
    return out_res, [{**r, "package": package, "version": res.version} for r in found["rows"]]
