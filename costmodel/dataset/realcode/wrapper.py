"""The compiler wrapper that side-compiles every translation unit of a package build to LLVM IR.

A folder holding this script under the names ``gcc``, ``cc``, ``g++``, ``c++`` and the
``x86_64-linux-gnu-*`` names goes first on ``PATH`` of a package build.  Each call runs the real
compiler first, unchanged, so the package builds exactly as Debian builds it.  When that call compiled
C or C++ sources and succeeded, the script compiles each of them again with ``clang-22`` /
``clang++-22``, the same arguments less output, dependency and gcc-only options, to LLVM IR text, and
leaves ``<id>.ll`` with ``<id>.json`` (source, arguments, compiler, working directory) in
``$IRTOOLS_IR_OUT``.  A side compile that fails never fails the build: its reason goes to the JSON.

With ``IRTOOLS_EXEC_OBJECTS=1`` (the build for instructions-executed labels) the object of a one-source
``-c`` compile is then replaced by ``llc-22``'s code for that IR, at the level the static labeller
uses, so the test suite runs the very code the labels describe.  PIC, because the object may go into
a shared library; a unit llc rejects keeps the real compiler's object and says so in its JSON.

Why a wrapper and not ``CFLAGS``: Debian rules often name the compiler directly (zlib runs
``CC=x86_64-linux-gnu-gcc ./configure``), and an extra flag such as ``-fembed-bitcode`` makes such
configure scripts abort.  Configure and CMake probes (``conftest.c``, ``CMakeScratch``) are not kept.

The script uses only the standard library and runs under ``python3 -S``: it runs once per compiler
call, so start-up matters.
"""

import json
import os
import re
import subprocess
import sys
import uuid

C_EXT = (".c", ".i")
CXX_EXT = (".cc", ".cpp", ".cxx", ".c++", ".C", ".ii", ".cp")
# options that take their value as the next argument and name an output or a dependency file
DROP_WITH_VALUE = {"-o", "-MF", "-MT", "-MQ", "-aux-info", "--output"}
VALUE_OPTS = {"-x", "-include", "-imacros", "-isystem", "-I", "-D", "-U", "-iquote", "-idirafter", "-L"}
DROP = {"-c", "-S", "-E", "-M", "-MM", "-MD", "-MMD", "-MP", "-MG", "-pipe", "-save-temps", "-v", "--verbose"}
# gcc-only options clang rejects (the rest it ignores with -Wno-unknown-warning-option / -Qunused-arguments)
DROP_PREFIX = ("-Wl,", "-specs=", "-fno-tree-", "-ftree-", "-fipa-", "-fno-ipa-", "-flto", "-ffat-lto",
               "-fno-fat-lto", "-fdiagnostics-color", "-fstack-clash-protection", "-fcf-protection=check",
               "-fno-semantic-interposition", "-fvar-tracking", "-fno-var-tracking", "--param", "-fsched",
               "-fgcse", "-fno-gcse", "-fpredictive-commoning", "-fno-allow-store-data-races",
               "-fmerge-constants", "-fno-reorder-blocks-and-partition", "-fno-code-hoisting",
               "-fmax-errors", "-fno-inline-small-functions", "-fprofile-partial", "-Wa,")
PROBES = ("conftest", "CMakeScratch", "CMakeTmp", "meson-private", "sanitycheck", "try_compile")
UNKNOWN = re.compile(r"(?:unknown argument|unsupported option|unknown warning option)[^']*'([^']+)'")


def opt_level(args: list[str]) -> str:
    """The optimisation level a compile command ends up with (the last ``-O`` wins, as in gcc)."""
    level = "-O0"
    for a in args:
        if a.startswith("-O"):
            level = {"-O": "-O1", "-Os": "-O2", "-Oz": "-O2", "-Ofast": "-O3", "-Og": "-O1"}.get(a, a)
    return level if level in ("-O0", "-O1", "-O2", "-O3") else "-O2"


def _object_path(args, src):
    """Where a one-source ``-c`` compile writes its object."""
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("-o") and len(a) > 2:
            return a[2:]
    return os.path.splitext(os.path.basename(src))[0] + ".o"


def exec_object(args, src, ll, meta):
    """Replace the real compiler's object of ``src`` by llc-22's code for its IR ``ll``."""
    if "-c" not in args or len(_sources(args)) != 1:
        meta["exec_object"] = None
        return
    obj = _object_path(args, src)
    tmp = obj + ".irtools-llc.o"
    argv = ["/usr/bin/llc-22", opt_level(meta["ir_args"]), "-relocation-model=pic", "-filetype=obj", ll,
            "-o", tmp]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        meta["exec_object"], meta["exec_error"] = None, "llc-22 timed out after 600 s"
        return
    if p.returncode != 0:
        meta["exec_object"], meta["exec_error"] = None, p.stderr.strip()[-500:]
        if os.path.exists(tmp):
            os.unlink(tmp)
        return
    os.replace(tmp, obj)
    meta["exec_object"] = os.path.abspath(obj)


def _real(name: str) -> str:
    """The real compiler this name stands for: the same name in /usr/bin (never this folder)."""
    return os.path.join("/usr/bin", name)


def _sources(args):
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in DROP_WITH_VALUE or a in VALUE_OPTS:
            skip = True
            continue
        if not a.startswith("-") and a.endswith(C_EXT + CXX_EXT):
            out.append(a)
    return out


def _ir_args(args, sources):
    keep, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in DROP_WITH_VALUE or a == "-L":
            skip = True
            continue
        if a in DROP or a in sources or a.startswith(DROP_PREFIX) or a.startswith(("-MF", "-MT", "-MQ")):
            continue
        if not a.startswith("-") and a.endswith((".o", ".a", ".so", ".lo")):
            continue   # objects and libraries of a compile-and-link call
        if a.startswith("-l") or a.startswith("-L") or a in ("-shared", "-static", "-rdynamic", "-pie"):
            continue
        keep.append(a)
    return keep


def side_compile(name: str, args: list[str], out_dir: str) -> None:
    sources = _sources(args)
    if not sources or any(p in os.path.abspath(s) for s in sources for p in PROBES):
        return
    if "-E" in args or "-M" in args or "-MM" in args:
        return
    if any(a in ("-m32", "-mx32", "-m16") for a in args):
        return    # multilib builds (zlib's lib32z1): the corpus is x86-64 code
    cxx = "++" in name
    base = _ir_args(args, sources)
    for src in sources:
        lang_cxx = cxx or src.endswith(CXX_EXT)
        clang = "/usr/bin/clang++-22" if lang_cxx else "/usr/bin/clang-22"
        uid = uuid.uuid4().hex[:16]
        ll = os.path.join(out_dir, uid + ".ll")
        extra = ["-S", "-emit-llvm", "-g0", "-fno-ident", "-Qunused-arguments", "-Wno-unknown-warning-option",
                 "-Wno-error", "-w"]
        argv = [clang, *base, *extra, src, "-o", ll]
        meta = {"source": os.path.abspath(src), "cwd": os.getcwd(), "compiler": name, "args": args,
                "clang": argv[0], "ir_args": base, "lang": "c++" if lang_cxx else "c"}
        dropped: list[str] = []
        for _ in range(4):   # drop each option clang names as unknown, and try again
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
            except subprocess.TimeoutExpired:
                meta["error"] = "clang timed out after 300 s"
                break
            if p.returncode == 0:
                meta.pop("error", None)
                break
            meta["error"] = p.stderr.strip()[-1500:]
            bad = set(UNKNOWN.findall(p.stderr))
            if not bad:
                break
            dropped += sorted(bad)
            argv = [a for a in argv if a not in bad]
        if dropped:
            meta["dropped"] = dropped
        if "error" not in meta and os.environ.get("IRTOOLS_EXEC_OBJECTS") == "1":
            exec_object(args, src, ll, meta)
        if "error" in meta:
            if os.path.exists(ll):
                os.unlink(ll)
            uid += ".failed"
        tmp = os.path.join(out_dir, uid + ".json.tmp")
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.replace(tmp, os.path.join(out_dir, uid + ".json"))


def main() -> int:
    name = os.path.basename(sys.argv[0])
    args = sys.argv[1:]
    rc = subprocess.call([_real(name), *args])
    out_dir = os.environ.get("IRTOOLS_IR_OUT")
    if rc == 0 and out_dir:
        try:
            side_compile(name, args, out_dir)
        except Exception as e:   # noqa: BLE001 - the package's build must never fail because of us
            with open(os.path.join(out_dir, f"wrapper-error-{uuid.uuid4().hex[:8]}.txt"), "w") as f:
                f.write(f"{name} {args!r}: {e!r}\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
