"""The ``irtools`` command: one subcommand per verb, one convention for every command.

Commands
    The library's own commands (``parse``, ``stats``, ``count``, ``compare``) are listed here.
    Applications add theirs through the ``irtools.commands`` entry-point group: each entry names a
    ``register(subparsers)`` function (``cost = "irtoolkit.costmodel.cli:register"`` in pyproject.toml), so that
    ``irtools`` imports nothing from them.  Registration must be cheap (no TVM, no LightGBM): heavy
    imports happen inside the command functions.  Two commands with one name are an error.

Convention (as clang and llvm-as)
    * results alone on stdout; progress and status on stderr, drawn only when stderr is a terminal;
    * a diagnostic is one line on stderr, ``file:line:col: error: message`` where there is a place,
      ``file: error: message`` for a whole file, ``irtools CMD: error: message`` otherwise;
    * exit status 0 on success, 1 for bad input (a file that does not parse, a missing file, a failed
      measurement, a campaign with findings), 2 for bad usage (unknown option, bad value), 70 for an
      internal error (a bug: rerun with ``--verbose`` for the traceback), 130 on Ctrl-C;
    * no traceback unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from . import __version__
from .errors import IrtoolsError, ParseError

# the library's own commands: module providing register(subparsers)
CORE_COMMANDS = [
    "irtools.ir.cli",          # parse, stats
    "irtools.measure.cli",     # count, compare
]
ENTRY_POINT_GROUP = "irtools.commands"

EXIT_INPUT = 1      # bad input: the file, the measured code, a finding
EXIT_USAGE = 2      # bad usage: options and their values (argparse's own code)
EXIT_INTERNAL = 70  # EX_SOFTWARE: an irtools bug

MAX_MESSAGE = 500   # characters of a diagnostic: a 50 MB line is not echoed whole


class UsageError(IrtoolsError):
    """Bad usage: an option value, a missing argument, an output folder that cannot be used (exit 2)."""


class InputError(IrtoolsError):
    """Bad input that concerns one file as a whole (exit 1): reported as ``file: error: message``."""

    def __init__(self, path, message: str):
        self.path = os.fspath(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


def clean(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` fit for one terminal line: control characters and undecodable bytes escaped, cut at
    ``limit`` characters with a note of how much was left out."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\t" or (32 <= o < 127) or (o >= 160 and not 0xDC80 <= o <= 0xDCFF):
            out.append(ch)
        elif 0xDC80 <= o <= 0xDCFF:                 # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        else:
            out.append(ascii(ch)[1:-1])
        if len(out) > limit:
            break
    s = "".join(out)
    if len(s) > limit or len(out) < len(text):
        s = s[:limit] + f"... ({len(text):,} characters in all)"
    return s


def diagnostic(err: BaseException, command: str | None = None) -> str:
    """The one line that reports ``err``."""
    if isinstance(err, ParseError):
        return clean(f"{err.location}: error: {err.message}") if err.line else \
            clean(f"{err.path}: error: {err.message}")
    if isinstance(err, InputError):
        return clean(f"{err.path}: error: {err.message}")
    if isinstance(err, OSError) and err.filename is not None:
        return clean(f"{err.filename}: error: {err.strerror or err}")
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return clean(f"irtools{' ' + command if command else ''}: error: {first}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irtools",
        description="Compiler IR toolkit: parse and analyse LLVM IR / MLIR, predict hardware cost, "
        "fuzz TVM, and count CPU instructions.",
        epilog="Run `irtools COMMAND --help` for the options of one command. Exit status: 0 success, "
        "1 bad input, 2 bad usage, 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"irtools {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    seen: dict[str, str] = {}
    for modname in CORE_COMMANDS:
        _checked_register(sub, importlib.import_module(modname).register, modname, seen)
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError as e:  # a broken plugin must not take the other commands down
            print(f"irtools: warning: command {ep.name!r} ({ep.value}) not loaded: {e}", file=sys.stderr)
            continue
        _checked_register(sub, register, ep.value, seen)
    for p in _all_subparsers(sub):
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="show the traceback of an error")
    return parser


def _checked_register(sub, register, origin: str, seen: dict[str, str]) -> None:
    """Run one ``register(subparsers)``; a command name taken by an earlier module is an error."""
    known = len(sub._choices_actions)
    try:
        register(sub)
    except argparse.ArgumentError as e:  # Python >= 3.11 refuses a second subparser of one name
        raise IrtoolsError(f"{origin}: {e}") from e
    for action in sub._choices_actions[known:]:   # Python 3.10 lets the second one win silently
        name = action.dest
        if name in seen:
            raise IrtoolsError(f"{origin}: command {name!r} is already registered by {seen[name]}")
        seen[name] = origin


def _all_subparsers(sub):
    """Every subparser under ``sub``, nested ones (``fuzz report``) included, each once."""
    out, todo, ids = [], list(sub.choices.values()), set()
    while todo:
        p = todo.pop()
        if id(p) in ids:
            continue
        ids.add(id(p))
        out.append(p)
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                todo.extend(a.choices.values())
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in argv
    try:
        parser = build_parser()
    except IrtoolsError as e:
        print(diagnostic(e), file=sys.stderr)
        return EXIT_INTERNAL
    args = parser.parse_args(argv)  # bad usage: argparse prints the usage line and exits 2
    verbose = verbose or getattr(args, "verbose", False)
    command = getattr(args, "command", None)
    try:
        rc = args.func(args)
    except UsageError as e:
        _report(e, command, verbose)
        return EXIT_USAGE
    except (IrtoolsError, OSError) as e:
        if isinstance(e, BrokenPipeError):
            return _broken_pipe()
        _report(e, command, verbose)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("irtools: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: one line, the traceback with --verbose
        if verbose:
            traceback.print_exc()
        print(clean(f"irtools{' ' + command if command else ''}: internal error: {type(e).__name__}: {e}"
                    + ("" if verbose else " (rerun with --verbose for the traceback)")), file=sys.stderr)
        return EXIT_INTERNAL
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _broken_pipe()
    return int(rc or 0)


def _report(e: BaseException, command: str | None, verbose: bool) -> None:
    if verbose:
        traceback.print_exc()
        if isinstance(e, ParseError):
            print(e.format(), file=sys.stderr)
            return
    print(diagnostic(e, command), file=sys.stderr)


def _broken_pipe() -> int:
    # `irtools ... | head`: the reader left; say nothing, as cat and grep do
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141


if __name__ == "__main__":
    sys.exit(main())
