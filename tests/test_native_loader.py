"""The one loader (irtools/_native.py): every component loads, its ABI version is checked at load, and the
loader's tables agree with the build's and with the headers."""

from __future__ import annotations

import re

import pytest

from irtools import _build, _native
from irtools.errors import NativeLoadError


def test_every_component_loads_with_its_abi_version():
    for name, version in _native.ABI.items():
        lib, _ffi = _native.load(name)
        assert getattr(lib, f"{name}_abi_version")() == version


def test_loader_tables_match_the_build():
    assert set(_native.ABI) == set(_build.COMPONENTS)
    assert {c: e for c, e in _build.COMPONENTS.items() if c != e} == _native.EXTENSION


def test_abi_constants_in_the_headers_match():
    for name, version in _native.ABI.items():
        text = (_build.CSRC / f"{name}.h").read_text() + (_build.CSRC / f"{name}.c").read_text()
        m = re.search(r"\b[A-Z]+_ABI(?:_VERSION)?\s*=\s*(\d+)|#define\s+\w*ABI\w*\s+(\d+)"
                      rf"|{name}_abi_version\(void\)\s*\{{\s*return\s+(\d+)", text)
        assert m, name
        assert int(next(g for g in m.groups() if g)) == version, name


def test_a_stale_build_is_refused(monkeypatch):
    _native.load.cache_clear()
    monkeypatch.setitem(_native.ABI, "gbdt", _native.ABI["gbdt"] + 1)
    try:
        with pytest.raises(NativeLoadError, match="ABI version"):
            _native.load("gbdt")
    finally:
        _native.load.cache_clear()
    with pytest.raises(NativeLoadError, match="no C component"):
        _native.load("nosuch")


def test_the_llvm_parser_is_linked_once():
    """llfeatures reads llparse's tables inside llparse's own extension: there is no second copy."""
    assert not list((_build.ROOT / "irtools").glob("_c_llfeatures.*"))
    a, _ = _native.load("llparse")
    b, _ = _native.load("llfeatures")
    assert a is b
