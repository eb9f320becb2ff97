"""MLIR parser and object model on small inputs: generic form, pretty forms, types, attributes, errors."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import need_tool

from irtools import ParseError, parse_mlir, parse_mlir_file
from irtools.ir.mlir import attrs as A
from irtools.ir.mlir.printer import print_generic

GENERIC = """\
#map = affine_map<(d0)[s0] -> (d0 + s0)>
"builtin.module"() ({
  "func.func"() <{function_type = (i32, f32) -> i32, sym_name = "f"}> ({
  ^bb0(%arg0: i32 loc("a.mlir":1:2), %arg1: f32):
    %0:2 = "test.pair"(%arg0) {tag = "x\\22y", m = #map} : (i32) -> (i32, index)
    %1 = "arith.addi"(%0#0, %arg0) : (i32, i32) -> i32 loc(fused["f.c":3:4, callsite("g"("h.c":1:1) at "i.c":2:2)])
    "cf.br"(%1)[^bb1] : (i32) -> ()
  ^bb1(%2: i32):
    "func.return"(%2) : (i32) -> ()
  }) : () -> ()
}) {sym_name = "m"} : () -> ()
"""


def test_generic_structure_and_links():
    mod = parse_mlir(GENERIC)
    assert mod.name == "builtin.module" and mod.is_generic and mod.parent is None
    ops = list(mod.walk())
    assert [o.name for o in ops] == ["builtin.module", "func.func", "test.pair", "arith.addi", "cf.br",
                                     "func.return"]
    func = mod.lookup_symbol("f")
    assert func is ops[1] or func == ops[1]
    assert func.properties["sym_name"] == A.StringAttr("f")
    assert func.properties["function_type"] == A.TypeAttr(
        A.FunctionType((A.IntegerType(32), A.FloatType("f32")), (A.IntegerType(32),)))
    entry, bb1 = func.regions[0].blocks
    assert [a.name for a in entry.arguments] == ["%arg0", "%arg1"]
    assert entry.arguments[0].type == A.IntegerType(32)
    pair, add, br, ret = ops[2:]
    assert pair.attributes["tag"] == A.StringAttr('x"y')
    assert isinstance(pair.attributes["m"], A.AffineMapAttr) and pair.attributes["m"].num_symbols == 1
    assert [r.type for r in pair.results] == [A.IntegerType(32), A.IndexType()]
    assert [r.name for r in pair.results] == ["%0#0", "%0#1"]
    # operands are linked to the values that define them
    assert add.operands[0] == pair.results[0] and add.operands[0].owner == pair
    assert add.operands[1] == entry.arguments[0] and add.operands[1].owner == entry
    assert add.location.startswith("loc(fused[")
    assert br.successors == [bb1]
    assert ret.operands[0] == bb1.arguments[0]
    assert [(u.name, k) for u, k in entry.arguments[0].uses] == [("test.pair", 0), ("arith.addi", 1)]
    assert ret.parent == bb1 and ret.parent_op == func and bb1.parent.parent == func
    assert add.dialect == "arith" and add.line == 6


PRETTY = """\
module {
  func.func @f(%arg0: i32, %m: memref<4x?xf32, strided<[?, 1], offset: ?>, 1>) -> i32 attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %0 = arith.addi %arg0, %arg0 : i32
    %b = arith.cmpi slt, %0, %arg0 : i32
    scf.for %i = %c0 to %c1 step %c1 {
      %v = memref.load %m[%i, %i] : memref<4x?xf32, strided<[?, 1], offset: ?>, 1>
    }
    %r = scf.if %b -> (i32) {
      scf.yield %0 : i32
    } else {
      scf.yield %arg0 : i32
    }
    cf.br ^bb1(%r : i32)
  ^bb1(%x: i32):
    return %x : i32
  }
  func.func private @decl(i32) -> i32
}
"""


def test_pretty_forms_structure():
    mod = parse_mlir(PRETTY)
    names = [o.name for o in mod.walk()]
    # scf.for's terminator is elided in the text and added back, as mlir-opt does
    assert names == ["builtin.module", "func.func", "arith.constant", "arith.constant", "arith.addi", "arith.cmpi",
                     "scf.for", "memref.load", "scf.yield", "scf.if", "scf.yield", "scf.yield", "cf.br",
                     "func.return", "func.func"]
    f = mod.lookup_symbol("@f")
    assert f.sym_name == "f" and not f.is_generic
    assert f.attributes == {"llvm.emit_c_interface": A.UnitAttr()}
    args = f.regions[0].blocks[0].arguments
    assert [a.name for a in args] == ["%arg0", "%m"]
    ops = list(mod.walk())
    add, cmp, loop, load = ops[4], ops[5], ops[6], ops[7]
    assert add.operands == [args[0], args[0]] and add.results[0].type == A.IntegerType(32)
    assert cmp.results[0].type == A.IntegerType(1)
    assert [o.name for o in loop.operands] == ["%c0", "%c1", "%c1"]
    iv = loop.regions[0].blocks[0].arguments[0]
    assert load.operands == [args[1], iv, iv]
    assert load.results[0].type == A.FloatType("f32")
    assert ops[8].is_implicit and ops[8].text == ""
    ifop = ops[9]
    assert len(ifop.regions) == 2 and ifop.results[0].type == A.IntegerType(32)
    assert ops[12].successors[0].name == "^bb1"
    assert ops[13].operands[0] == ops[12].successors[0].arguments[0]
    decl = mod.lookup_symbol("decl")
    assert len(decl.regions) == 1 and decl.regions[0].blocks == []  # a declaration: one empty region


def test_implicit_module_and_single_module():
    two = parse_mlir('"a.x"() : () -> ()\n"b.y"() : () -> ()\n')
    assert two.name == "builtin.module" and two.is_implicit
    assert [o.name for o in two.regions[0].blocks[0].operations] == ["a.x", "b.y"]
    one = parse_mlir("module @m {\n}\n")
    assert not one.is_implicit and one.sym_name == "m"
    lone = parse_mlir("func.func @f() {\n  return\n}\n")
    assert lone.is_implicit and lone.regions[0].blocks[0].operations[0].name == "func.func"


@pytest.mark.parametrize("text, expected", [
    ("i32", A.IntegerType(32)),
    ("si8", A.IntegerType(8, "si")),
    ("ui1", A.IntegerType(1, "ui")),
    ("bf16", A.FloatType("bf16")),
    ("f8E4M3FN", A.FloatType("f8E4M3FN")),
    ("index", A.IndexType()),
    ("none", A.NoneType()),
    ("tensor<?x4xf32>", A.RankedTensorType((None, 4), A.FloatType("f32"))),
    ("tensor<*xi8>", A.UnrankedTensorType(A.IntegerType(8))),
    ("vector<[4]x8xf32>", A.VectorType((4, 8), A.FloatType("f32"), (True, False))),
    ("memref<4x?xf32, strided<[?, 1], offset: ?>, 1>",
     A.MemRefType((4, None), A.FloatType("f32"), A.StridedLayoutAttr((None, 1), None), A.IntegerAttr(1))),
    ("complex<f64>", A.ComplexType(A.FloatType("f64"))),
    ("tuple<i1, index>", A.TupleType((A.IntegerType(1), A.IndexType()))),
    ("(i32, f32) -> (i1)", A.FunctionType((A.IntegerType(32), A.FloatType("f32")), (A.IntegerType(1),))),
    ("!llvm.ptr", A.OpaqueType("llvm", "!llvm.ptr")),
    ("!hw.array<4x!hw.struct<a: i1>>", A.OpaqueType("hw", "!hw.array<4x!hw.struct<a: i1>>")),
])
def test_types(text, expected):
    t = A.parse_type(text)
    assert t == expected and hash(t) == hash(expected)
    assert A.parse_type(str(t)) == t


@pytest.mark.parametrize("text, expected", [
    ("42 : i64", A.IntegerAttr(42, A.IntegerType(64))),
    ("-7", A.IntegerAttr(-7)),
    ("0x10 : i8", A.IntegerAttr(16, A.IntegerType(8))),
    ("true", A.BoolAttr(True)),
    ("unit", A.UnitAttr()),
    ('"a\\0Ab"', A.StringAttr("a\nb")),
    ("@a::@b", A.SymbolRefAttr("a", ("b",))),
    ("[1, [2]]", A.ArrayAttr((A.IntegerAttr(1), A.ArrayAttr((A.IntegerAttr(2),))))),
    ("array<i32: 1, 2>", A.DenseArrayAttr(A.IntegerType(32), (1, 2))),
    ("dense<[1, 2]> : tensor<2xi32>",
     A.ElementsAttr("dense", "[1, 2]", A.RankedTensorType((2,), A.IntegerType(32)))),
    ("#gpu.address_space<workgroup>", A.OpaqueAttr("gpu", "#gpu.address_space<workgroup>")),
    ("{a = 1, b}", A.DictionaryAttr((("a", A.IntegerAttr(1)), ("b", A.UnitAttr())))),
    ("affine_map<(d0) -> (d0 floordiv 2)>", A.AffineMapAttr("(d0) -> (d0 floordiv 2)")),
    ("i32", A.TypeAttr(A.IntegerType(32))),
])
def test_attributes(text, expected):
    a = A.parse_attr(text)
    assert a == expected
    assert A.parse_attr(str(a)) == a


def test_float_attributes():
    assert A.parse_attr("1.5 : f32").value == 1.5
    assert A.parse_attr("0x7F800000 : f32").value == float("inf")
    assert A.parse_attr("-2.0e+00 : f64").value == -2.0


def test_aliases_used_before_definition_and_locations():
    text = ('"t.op"() {a = #alias, t = !ty} : () -> () loc(#loc1)\n'
            '#alias = [1, 2]\n!ty = tensor<2xf32>\n#loc1 = loc("x.c":3:1)\n')
    op = parse_mlir(text).regions[0].blocks[0].operations[0]
    assert op.attributes["a"] == A.ArrayAttr((A.IntegerAttr(1), A.IntegerAttr(2)))
    assert op.attributes["t"] == A.TypeAttr(A.RankedTensorType((2,), A.FloatType("f32")))
    assert op.location == "loc(#loc1)"
    with pytest.raises(ParseError) as e:
        parse_mlir('"t.op"() {a = #nope} : () -> ()\n')
    assert "undefined symbol alias id 'nope'" in e.value.message and (e.value.line, e.value.col) == (1, 15)


def test_dialect_resources_are_kept():
    text = ('"t.op"() {r = dense_resource<blob1> : tensor<1xi32>} : () -> ()\n'
            '{-#\n  dialect_resources: {\n    builtin: {\n      blob1: "0x0400000001000000"\n    }\n  }\n#-}\n')
    mod = parse_mlir(text)
    op = mod.regions[0].blocks[0].operations[0]
    assert op.attributes["r"].kind == "dense_resource"
    assert "dialect_resources" in print_generic(mod)


def test_split_input_file_keeps_whole_file_lines():
    text = '"a.x"() : () -> ()\n// -----\n\n"b.y"() : () -> ()\n// -----\n"c.z"(%bad) : () -> ()\n'
    with pytest.raises(ParseError) as e:
        parse_mlir(text, split_input_file=True)
    assert (e.value.line, e.value.col) == (6, 7)
    assert "undeclared SSA value" in e.value.message
    tops = parse_mlir(text.rsplit("// -----", 1)[0], split_input_file=True)
    assert [t.regions[0].blocks[0].operations[0].line for t in tops] == [1, 4]


@pytest.mark.parametrize("text, line, col, message", [
    ('"a.b"(%0) : () -> ()', 1, 7, "use of undeclared SSA value name"),
    ('%0 = "a.b"() : () -> i32\n%0 = "a.c"() : () -> i32', 2, 1, "redefinition of SSA value '%0'"),
    ('"a.b"() : () -> (i32', 1, 21, "expected ')' in type list"),
    ('"a.b"() {x = } : () -> ()', 1, 14, "expected attribute value"),
    ('"a.b"() ({\n^bb0:\n  "c.d"()[^bb7] : () -> ()\n}) : () -> ()', 3, 11, "reference to an undefined block"),
    ('"a.b"() {s = "abc} : () -> ()', 1, 14, "expected '\"' in string literal"),
    ('"a.b"() : () -> !x.y<a', 1, 21, "unbalanced"),
    ('"a.b"() : i32', 1, 11, "expected function type"),
])
def test_errors_have_places(text, line, col, message):
    with pytest.raises(ParseError) as e:
        parse_mlir(text, path="t.mlir")
    err = e.value
    assert (err.line, err.col) == (line, col) and message in err.message
    assert str(err).startswith(f"t.mlir:{line}:{col}: error: ")


def test_sources_str_bytes_path(tmp_path):
    p = tmp_path / "x.mlir"
    p.write_text('"a.b"() : () -> ()\n')
    for src in (p, p.read_bytes(), p.read_text()):
        assert [o.name for o in parse_mlir(src).walk()] == ["builtin.module", "a.b"]
    for name in (str(p), str(tmp_path / "missing.mlir")):  # a str is text, even one naming a file
        with pytest.raises(ParseError, match="call parse_mlir_file") as e:
            parse_mlir(name)
        assert e.value.line == 1


def test_print_generic_is_a_fixed_point_and_mlir_opt_reads_it():
    opt = need_tool("mlir-opt-22")
    for text in (GENERIC, PRETTY):
        once = print_generic(parse_mlir(text))
        twice = print_generic(parse_mlir(once))
        assert once == twice
        flags = ["--allow-unregistered-dialect", "--mlir-print-op-generic"]
        ref = subprocess.run([opt, *flags, "-"], input=text.encode(), capture_output=True, check=True).stdout
        ours = subprocess.run([opt, *flags, "-"], input=once.encode(), capture_output=True, check=True).stdout
        assert ours == ref


@pytest.mark.parametrize("type_text, col, message", [
    ("tensor<4xx>", 26, "expected non-function type"),
    ("vector<?xf32>", 24, "expected non-function type"),
    ("tensor<4xf32", 29, "expected '>' to close tensor type"),
    ("memref<4x?xf32, strided<[1]>, >", 47, "expected attribute value"),
])
def test_builtin_types_are_checked_structurally(type_text, col, message):
    with pytest.raises(ParseError) as e:
        parse_mlir(f'"a.b"() : () -> {type_text}')
    assert (e.value.line, e.value.col) == (1, col) and message in e.value.message
    for good in ("tensor<4 x ?xf32, #x.y<1>>", "memref<*xf32, 2>", "vector<[4]x8xf32>", "tensor<0xf32>",
                 "tuple<>", "complex<i3>", "memref<4x?xf32, strided<[?, 1], offset: ?>, 1>"):
        parse_mlir(f'"a.b"() : () -> {good}')


def test_linalg_named_op_bodies_and_default_dialects():
    text = """\
func.func @f(%a: tensor<4x4xi8>, %z: i32, %c: tensor<4x4xi32>, %x: tensor<4xf32>) -> tensor<4x4xi32> {
  %0 = linalg.quantized_matmul ins(%a, %a, %z, %z : tensor<4x4xi8>, tensor<4x4xi8>, i32, i32)
                              outs(%c : tensor<4x4xi32>) -> tensor<4x4xi32>
  %1 = linalg.exp ins(%x : tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4x4xi32>
}
pdl.pattern : benefit(1) {
  %root = operation "foo.op"
  rewrite %root {
    erase %root
  }
}
"""
    mod = parse_mlir(text)
    names = [o.name for o in mod.walk()]
    assert names == ["builtin.module", "func.func", "linalg.quantized_matmul", "arith.extsi", "arith.subi",
                     "arith.extsi", "arith.subi", "arith.muli", "arith.addi", "linalg.yield", "linalg.exp", "math.exp",
                     "linalg.yield", "func.return", "pdl.pattern", "pdl.operation", "pdl.rewrite", "pdl.erase"]
    opt = need_tool("mlir-opt-22")
    ref = subprocess.run([opt, "--allow-unregistered-dialect", "--mlir-very-unsafe-disable-verifier-on-parsing",
                          "--mlir-print-op-generic", "-"], input=text.encode(), capture_output=True, check=True)
    assert sorted(names) == sorted(n.decode() for n in re.findall(rb'"([\w.]+)"\(', ref.stdout))


def test_dialect_bodies_are_read_as_mlir_opt_reads_them():
    """`<...>` after a dialect attribute or type is the dialect's text: `//` and `$` inside it are no MLIR
    tokens; brackets, `->` and strings are.  mlir-opt-22 reads the same text, and reports imbalance at the `<`."""
    opt = need_tool("mlir-opt-22")
    text = ('"a.b"() {x = #u<k [a // b]>, y = #u.v<"s>" -> $ ?>} : () -> !u.t<p / q\n  (r) -> {s}>\n'
            '"a.c"() : () -> ()\n')
    mod = parse_mlir(text)
    a, c = mod.regions[0].blocks[0].operations
    assert a.attribute_text == '{x = #u<k [a // b]>, y = #u.v<"s>" -> $ ?>}'
    assert a.type_text == "() -> !u.t<p / q\n  (r) -> {s}>" and c.line == 3
    r = subprocess.run([opt, "--allow-unregistered-dialect", "--mlir-print-op-generic", "-"], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for bad, message in (("#u<a ]>", "unbalanced '<'"), ("#u<a (>", "unbalanced '('")):
        with pytest.raises(ParseError) as e:
            parse_mlir(f'"a.b"() {{x = {bad}}} : () -> ()')
        assert message in e.value.message and e.value.col == 16, e.value


MLIR_OPT = shutil.which("mlir-opt-22")


@pytest.mark.parametrize("text, where, name", [
    ("This is not MLIR, just prose.\n", (1, 1), "This"),
    ("word\n", (1, 1), "word"),
    ("module {\n  stray\n}\n", (2, 3), "stray"),
    ('"a.b"() : () -> ()\nthen some words\n', (2, 1), "then"),
])
def test_prose_and_bare_words_are_not_mlir(text, where, name):
    msg = f"custom op '{name}' is unknown (tried 'builtin.{name}' as well)"
    if MLIR_OPT:  # the reference rejects them with the same message and place
        r = subprocess.run([MLIR_OPT, "--allow-unregistered-dialect", "-"], input=text, text=True,
                           capture_output=True)
        assert r.returncode != 0 and f"<stdin>:{where[0]}:{where[1]}: error: {msg}" in r.stderr
    with pytest.raises(ParseError) as ei:
        parse_mlir(text)
    assert (ei.value.line, ei.value.col) == where and ei.value.message == msg


def test_default_dialect_names_still_parse():
    mod = parse_mlir("func.func @f() {\n  return\n}\nmodule {\n}\n")
    assert [op.name for op in mod.walk()] == ["builtin.module", "func.func", "func.return", "builtin.module"]


def test_str_is_text_and_path_is_a_file(tmp_path):
    p = tmp_path / "k.mlir"
    p.write_text("func.func @f() {\n  return\n}\n")
    assert [op.name for op in parse_mlir_file(str(p)).walk()][1] == "func.func"
    assert [op.name for op in parse_mlir(p).walk()][1] == "func.func"
    # a mistyped path is not parsed silently as MLIR: it is text, and the error says how to read a file
    with pytest.raises(ParseError, match=r"pass pathlib.Path\('kernels/matmul.mlir'\) or call parse_mlir_file"):
        parse_mlir("kernels/matmul.mlir")
    with pytest.raises(FileNotFoundError):
        parse_mlir_file(tmp_path / "missing.mlir")
