"""What a parser accepts as its input: IR text (``str``), its bytes, or a file as a ``pathlib.Path``
(any ``os.PathLike``).  A ``str`` is always text, never a file name (see :func:`path_hint`)."""

from __future__ import annotations

import os


def read_source(source, path: str | None, reader: str) -> tuple[bytes, str | None]:
    """(bytes to parse, the name errors give) of a parser's ``source``; ``reader`` names the parser in
    the TypeError a wrong type gets."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), path
    if isinstance(source, os.PathLike):
        p = os.fspath(source)
        with open(p, "rb") as f:
            return f.read(), path if path is not None else str(p)
    if isinstance(source, str):
        return source.encode("utf-8", "surrogateescape"), path
    raise TypeError(f"{reader}() wants str (IR text), bytes or a pathlib.Path, not {type(source).__name__}")
