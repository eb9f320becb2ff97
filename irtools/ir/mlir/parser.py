"""``parse_mlir``: MLIR text -> the lazy object model of :mod:`irtools.ir.mlir.model`.

The C parser (``csrc/mlirparse.c``) fills flat tables in one pass; this module turns a source
(text, bytes or a path) into chunks, runs the parser on each and raises :class:`ParseError` with the
file, line and column of the first error.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import ParseError
from ..source import read_source
from .model import Chunk, Operation

SPLIT_MARKER = b"// -----"


def chunk_bounds(data: bytes, split_input_file: bool) -> list[tuple[int, int]]:
    """Byte ranges of the chunks, split where mlir-opt's ``--split-input-file`` splits (the raw marker)."""
    if not split_input_file:
        return [(0, len(data))]
    out, start = [], 0
    n = len(SPLIT_MARKER)
    while True:
        i = data.find(SPLIT_MARKER, start)
        if i < 0:
            out.append((start, len(data)))
            return out
        out.append((start, i))
        start = i + n


def parse_chunks(data: bytes, *, path=None, split_input_file=False) -> list[Chunk]:
    chunks = []
    for begin, end in chunk_bounds(data, split_input_file):
        ch = Chunk(data, begin, end, path=path)
        if ch.error is not None:
            off, msg = ch.error
            line, col = ch.line_col(off)
            raise ParseError(msg, path=path, line=line, col=col, source_line=ch.source_line(line), offset=off)
        chunks.append(ch)
    return chunks


def parse_mlir(source, *, path=None, split_input_file: bool = False):
    """Parse MLIR into its top-level operation (a ``builtin.module``, implicit if needed).

    ``source`` is MLIR text (``str``), its bytes, or a file as a ``pathlib.Path``.  A ``str`` is
    always text, never a file name: use :func:`parse_mlir_file` or a ``Path`` to read a file.  With
    ``split_input_file=True`` the text is cut at each ``// -----`` as mlir-opt does and a list of
    top-level operations is returned, one per chunk; lines stay those of the whole file.
    """
    from ..llvm.module import path_hint

    data, path = read_source(source, path, "parse_mlir")
    try:
        chunks = parse_chunks(data, path=path, split_input_file=split_input_file)
    except ParseError as e:
        raise path_hint(source, e, "parse_mlir_file") from None
    tops = [Operation(ch, ch.top) for ch in chunks]
    return tops if split_input_file else tops[0]


def parse_mlir_file(path: str | os.PathLike, *, split_input_file: bool = False):
    """Parse the MLIR file at ``path`` (a ``str`` or ``Path``); raises ``OSError`` or ``ParseError``."""
    return parse_mlir(Path(path), split_input_file=split_input_file)
