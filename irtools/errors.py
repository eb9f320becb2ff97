"""Error types shared by every part of irtools."""

from __future__ import annotations

import os


class IrtoolsError(Exception):
    """Base of every error irtools raises on purpose."""


class NativeLoadError(IrtoolsError, ImportError):
    """The compiled C core is missing or stale."""


class ParseError(IrtoolsError, ValueError):
    """Text that does not parse, with the place it stopped.

    ``line`` and ``col`` are 1-based; ``col`` counts bytes, as LLVM's and MLIR's
    own diagnostics do.  ``str(err)`` reads ``file:line:col: error: message`` followed by
    the offending line and a caret, so that editors and humans can jump to it.
    """

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, line: int = 0, col: int = 0,
                 source_line: str | None = None, offset: int | None = None):
        self.message = message
        self.path = os.fspath(path) if path is not None else "<string>"
        self.line = line
        self.col = col
        self.offset = offset
        self.source_line = source_line
        super().__init__(self.format())

    @classmethod
    def in_source(cls, message: str, data: bytes, *, offset: int, line: int, col: int,
                  path: str | os.PathLike | None = None) -> ParseError:
        """The error at byte ``offset`` of ``data``, the parsed bytes: its line comes with it."""
        start = data.rfind(b"\n", 0, offset) + 1
        end = data.find(b"\n", offset)
        source_line = data[start:end if end >= 0 else len(data)].decode("utf-8", "replace")
        return cls(message, path=path, line=line, col=col, source_line=source_line, offset=offset)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def format(self, context: bool = True) -> str:
        head = f"{self.location}: error: {self.message}"
        if not context or self.source_line is None:
            return head
        text = self.source_line.rstrip("\n").expandtabs(1)
        caret = " " * max(self.col - 1, 0) + "^"
        return f"{head}\n{text}\n{caret}"

    def __reduce__(self):  # picklable across worker processes
        return (_rebuild_parse_error, (self.message, self.path, self.line, self.col, self.source_line, self.offset))


def _rebuild_parse_error(message, path, line, col, source_line, offset):
    return ParseError(message, path=path, line=line, col=col, source_line=source_line, offset=offset)
