"""Spelling of LLVM names: the escapes of quoted names and when a name needs quotes."""

from __future__ import annotations

import re

_BARE = re.compile(r"[-a-zA-Z$._][-a-zA-Z$._0-9]*\Z")
_ESC = re.compile(rb"\\([0-9A-Fa-f]{2}|\\)")


def unescape(raw: bytes) -> bytes:
    r"""``\XX`` hex escapes and ``\\`` as LLVM's lexer reads them in quoted strings and names."""
    if b"\\" not in raw:
        return raw
    return _ESC.sub(lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1), 16)]), raw)


def decode_name(src: bytes, off: int, length: int) -> str:
    """A name from its key in the source (the text after the sigil, without quotes)."""
    raw = src[off:off + length]
    if off > 0 and src[off - 1] == 0x22:  # quoted
        raw = unescape(raw)
    return raw.decode("utf-8", "surrogateescape")


def format_name(name: str) -> str:
    """The name as LLVM prints it after the sigil: bare when it can be, else quoted with escapes."""
    if _BARE.match(name):
        return name
    raw = name.encode("utf-8", "surrogateescape")
    out = []
    for b in raw:
        if b == 0x5C or b == 0x22 or b < 0x20 or b >= 0x7F:
            out.append(f"\\{b:02X}")
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'
