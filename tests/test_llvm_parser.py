"""LLVM IR parser: constructs it accepts, errors with exact places and LLVM's wording."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from irtools import ParseError, parse_llvm, parse_llvm_file
from irtools.ir.llvm import types as T

# One module touching most of the syntax the parser knows; every line is valid for llvm-as-22.
KITCHEN_SINK = r"""
; ModuleID = 'k'
source_filename = "kitchen.c"
target datalayout = "e-m:e-p270:32:32-i64:64-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"
module asm "nop"

%struct.S = type { i32, ptr, [4 x i8] }
%struct.P = type <{ i8, i32 }>
%opaque.T = type opaque
$cd = comdat any

@g = dso_local global i32 42, align 4
@"quoted name\22" = internal constant [6 x i8] c"hello\00"
@arr = global [2 x %struct.S] zeroinitializer, comdat($cd)
@ptrs = global [2 x ptr] [ptr @g, ptr getelementptr inbounds ([6 x i8], ptr @"quoted name\22", i64 0, i64 1)]
@vec = global <4 x float> <float 1.0, float 0x3FF0000000000000, float -0.5, float 2.5e+01>
@h = global half 0xH3C00
@x = global x86_fp80 0xK3FFF8000000000000000
@ext = external global i32
@tls = thread_local(initialexec) global i32 0
@as1 = addrspace(1) global i32 0
@a = alias i32, ptr @g
@i = ifunc void (), ptr @resolver
@0 = private global i8 1
@dso = global ptr dso_local_equivalent @f
@nocfi = global ptr no_cfi @f

declare i32 @printf(ptr noundef, ...) #1
define ptr @resolver() {
  ret ptr null
}
declare i32 @__gxx_personality_v0(...)

define dso_local i32 @f(i32 noundef %a, ptr nocapture readonly %p, i64 %2) #0 !dbg !7 {
entry:
  %x = add nuw nsw i32 %a, 1
  %y = udiv exact i32 %x, 1
  %d = or disjoint i32 %y, 8
  %z = zext nneg i32 %d to i64
  %c = icmp samesign ult i32 %x, 10
  %fc = fcmp fast olt float 1.0, 2.0
  %fa = fadd nnan ninf float 1.0, 2.0
  %fn = fneg float %fa
  %gp = getelementptr inbounds nuw %struct.S, ptr %p, i64 0, i32 1
  %ld = load volatile i32, ptr %p, align 4, !tbaa !10
  %la = load atomic i32, ptr %p syncscope("singlethread") acquire, align 4
  store atomic i32 %x, ptr %p release, align 4
  %al = alloca i32, i32 4, align 16
  %rmw = atomicrmw volatile add ptr %p, i32 1 seq_cst
  %cx = cmpxchg weak ptr %p, i32 0, i32 1 acq_rel monotonic
  %cxv = extractvalue { i32, i1 } %cx, 0
  fence syncscope("agent") seq_cst
  %s = select i1 %c, i32 %x, i32 %y
  %vec = insertelement <4 x i32> poison, i32 %x, i64 0
  %sh = shufflevector <4 x i32> %vec, <4 x i32> undef, <2 x i32> <i32 0, i32 0>
  %el = extractelement <2 x i32> %sh, i32 1
  %iv = insertvalue %struct.S undef, i32 %el, 0
  %fr = freeze i32 %el
  %call = tail call i32 (ptr, ...) @printf(ptr @"quoted name\22", i32 %x) #2
  %asm = call i32 asm sideeffect "mov $0, $1", "=r,r"(i32 %x)
    #dbg_value(i32 %x, !9, !DIExpression(), !8)
  %ba = bitcast ptr blockaddress(@f, %loop) to ptr
  br i1 %c, label %loop, label %exit, !prof !11

loop:                                             ; preds = %loop, %entry
  %i = phi i32 [ 0, %entry ], [ %inc, %loop ]
  %inc = add i32 %i, 1
  %done = icmp eq i32 %inc, 100
  br i1 %done, label %exit, label %loop

exit:
  %r = phi i32 [ %x, %entry ], [ %inc, %loop ]
  switch i32 %r, label %d1 [
    i32 0, label %d1
    i32 1, label %d2
  ]

d1:
  indirectbr ptr %ba, [label %d2]

d2:
  call void @ext_fn(i32 2)
  unreachable
}

define void @eh() personality ptr @__gxx_personality_v0 {
entry:
  invoke void @ext_fn(i32 1) [ "deopt"(i32 7) ]
          to label %ok unwind label %lp

ok:
  ret void

lp:
  %l = landingpad { ptr, i32 }
          cleanup
          catch ptr null
          filter [1 x ptr] [ptr @g]
  resume { ptr, i32 } %l
}

declare void @ext_fn(i32)

define void @funclets() personality ptr @__gxx_personality_v0 {
entry:
  invoke void @ext_fn(i32 0)
          to label %cont unwind label %dispatch

cont:
  ret void

dispatch:
  %cs = catchswitch within none [label %handler] unwind to caller

handler:
  %cp = catchpad within %cs [ptr null, i32 64, ptr null]
  catchret from %cp to label %cont
}

attributes #0 = { noinline nounwind "frame-pointer"="all" }
attributes #1 = { nounwind }
attributes #2 = { memory(argmem: read) }

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!5, !6}
!0 = distinct !DICompileUnit(language: DW_LANG_C99, file: !1, producer: "x", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug)
!1 = !DIFile(filename: "k.c", directory: "/tmp")
!5 = !{i32 7, !"Dwarf Version", i32 5}
!6 = !{i32 2, !"Debug Info Version", i32 3}
!7 = distinct !DISubprogram(name: "f", scope: !1, file: !1, line: 1, type: !12, unit: !0)
!8 = !DILocation(line: 2, column: 3, scope: !7)
!9 = !DILocalVariable(name: "x", scope: !7, file: !1, line: 2, type: !13)
!10 = !{!"int", !14, i64 0}
!11 = !{!"branch_weights", i32 1, i32 2000}
!12 = !DISubroutineType(types: !{null})
!13 = !DIBasicType(name: "int", size: 32, encoding: DW_ATE_signed)
!14 = !{!"omnipotent char"}
^0 = module: (path: "k.o", hash: (0, 0, 0, 0, 0))
"""


@pytest.fixture(scope="module")
def sink():
    return parse_llvm(KITCHEN_SINK)


def test_module_header(sink):
    assert sink.source_filename == "kitchen.c"
    assert sink.triple == "x86_64-unknown-linux-gnu"
    assert sink.data_layout.startswith("e-m:e")
    assert sink.named_types["struct.S"] == T.StructType((T.IntType(32), T.PointerType(), T.ArrayType(T.IntType(8), 4)))
    assert sink.named_types["struct.P"] == T.StructType((T.IntType(8), T.IntType(32)), packed=True)
    assert sink.named_types["opaque.T"] == T.OpaqueType()
    assert sink.attribute_groups[0] == 'noinline nounwind "frame-pointer"="all"'
    assert sink.metadata["!11"] == '!{!"branch_weights", i32 1, i32 2000}'


def test_globals(sink):
    names = [g.name for g in sink.globals]
    assert names[:3] == ["g", 'quoted name"', "arr"]
    g = sink.get_global("g")
    assert g.value_type == T.IntType(32) and g.type == T.PointerType()
    assert g.initializer.value == 42 and not g.is_constant
    q = sink.get_global('quoted name"')
    assert q.is_constant and q.linkage == "internal"
    assert q.initializer.value == b"hello\x00"
    assert sink.get_global("ext").is_declaration
    assert sink.get_global("as1").type == T.PointerType(1)
    ptrs = sink.get_global("ptrs").initializer
    assert ptrs.kind.name == "AGGREGATE"
    first, gep = ptrs.operands
    assert first is g
    assert gep.kind.name == "EXPR" and gep.opcode == "getelementptr"
    assert gep.operands[0] is q and [c.value for c in gep.operands[1:]] == [0, 1]
    vec = sink.get_global("vec").initializer
    assert [c.value for c in vec.operands] == [1.0, 1.0, -0.5, 25.0]
    assert sink.get_global("h").initializer.value == 1.0
    assert sink.get_global("x").initializer.value == 1.0
    assert sink.get_global("dso").initializer.operands == [sink.get_function("f")]
    assert [a.name for a in sink.aliases] == ["a"] and sink.aliases[0].aliasee is g
    assert [i.name for i in sink.ifuncs] == ["i"] and sink.ifuncs[0].resolver is sink.get_function("resolver")
    assert sink.get_global("0") is None and sink.globals[names.index("")].ref == "@0"


def test_functions(sink):
    f = sink.get_function("f")
    assert [fn.name for fn in sink.functions][:3] == ["printf", "resolver", "__gxx_personality_v0"]
    assert sink.get_function("printf").is_declaration
    assert sink.get_function("printf").type == T.FunctionType(T.IntType(32), (T.PointerType(),), True)
    assert not f.is_declaration
    assert f.type == T.FunctionType(T.IntType(32), (T.IntType(32), T.PointerType(), T.IntType(64)))
    assert f.return_type == T.IntType(32)
    assert [(a.name, str(a.type), a.index) for a in f.arguments] == [("a", "i32", 0), ("p", "ptr", 1), ("", "i64", 2)]
    assert all(a.function is f for a in f.arguments)
    assert f.linkage == "external" and f.calling_convention == "ccc"
    assert f.attributes == ["#0"]
    assert f.metadata == {"dbg": "!7"}
    assert [b.name for b in f.blocks] == ["entry", "loop", "exit", "d1", "d2"]


def test_flags_and_fields(sink):
    f = sink.get_function("f")
    by = {i.name: i for i in f.instructions() if i.name}
    assert by["x"].flags == {"nuw", "nsw"}
    assert by["y"].flags == {"exact"}
    assert by["d"].flags == {"disjoint"}
    assert by["z"].flags == {"nneg"} and by["z"].type == T.IntType(64)
    assert by["c"].flags == {"samesign"} and by["c"].predicate == "ult" and by["c"].type == T.IntType(1)
    assert by["fc"].flags == {"fast"} and by["fc"].predicate == "olt"
    assert by["fa"].flags == {"nnan", "ninf"}
    assert by["gp"].flags == {"inbounds", "nuw"} and by["gp"].source_element_type == T.NamedStructType("struct.S")
    assert by["ld"].flags == {"volatile"} and by["ld"].metadata == {"tbaa": "!10"}
    assert by["la"].flags == {"atomic"}
    assert by["al"].allocated_type == T.IntType(32) and by["al"].operands[0].value == 4
    assert by["rmw"].atomic_operation == "add" and by["rmw"].flags == {"volatile"}
    assert by["cx"].flags == {"weak"}
    assert by["cx"].type == T.StructType((T.IntType(32), T.IntType(1)))
    assert by["cxv"].indices == [0] and by["cxv"].type == T.IntType(32)
    assert by["sh"].type == T.VectorType(T.IntType(32), 2) and len(by["sh"].operands) == 2
    assert by["sh"].shuffle_mask.text == "<i32 0, i32 0>"
    assert by["el"].type == T.IntType(32)
    assert by["call"].flags == {"tail"}
    assert by["call"].callee is f.module.get_function("printf")
    assert by["call"].function_type == T.FunctionType(T.IntType(32), (T.PointerType(),), True)
    assert by["asm"].callee.asm == "mov $0, $1" and by["asm"].callee.constraints == "=r,r"
    assert by["asm"].callee.side_effect
    assert by["ba"].debug_records == ["#dbg_value(i32 %x, !9, !DIExpression(), !8)"]
    br = f.blocks[0].terminator
    assert br.metadata == {"prof": "!11"}


def test_operand_order_matches_llvm(sink):
    f = sink.get_function("f")
    by = {i.name: i for i in f.instructions() if i.name}
    entry, loop, exit_, d1, d2 = f.blocks
    br = entry.terminator
    assert br.operands == [by["c"], exit_, loop]           # cond, false dest, true dest
    assert entry.successors == [loop, exit_]
    store = [i for i in entry.instructions if i.opcode == "store"][0]
    assert store.operands == [by["x"], f.arguments[1]]       # value, pointer
    call = by["call"]
    assert call.operands[1:] == [by["x"], call.callee] and call.arguments[1] is by["x"]
    phi = by["i"]
    assert phi.operands[0].value == 0 and phi.operands[1] is by["inc"]
    assert phi.incoming_blocks == [entry, loop]
    sw = exit_.terminator
    assert sw.operands == [by["r"], d1, d1, d2]               # cond, default, case dests (LLVM 22)
    assert [(c.value, b) for c, b in sw.switch_cases] == [(0, d1), (1, d2)]
    assert all(c.type == T.IntType(32) for c, _ in sw.switch_cases)
    assert exit_.successors == [d1, d1, d2]
    assert d1.terminator.operands == [by["ba"], d2]
    assert d2.predecessors == [exit_, d1]
    assert loop.predecessors == [entry, loop]
    eh = sink.get_function("eh")
    inv = eh.blocks[0].terminator
    ok, lp = eh.blocks[1:]
    assert inv.opcode == "invoke"
    assert inv.operands[0].value == 1 and inv.operands[1].value == 7  # argument, bundle input
    assert inv.operands[2:] == [ok, lp, sink.get_function("ext_fn")]
    assert inv.arguments == [inv.operands[0]]
    assert eh.blocks[0].successors == [ok, lp]
    land = lp.instructions[0]
    assert land.flags == {"cleanup"} and [o.kind.name for o in land.operands] == ["NULL", "AGGREGATE"]
    fl = sink.get_function("funclets")
    cs = fl.blocks[2].instructions[0]
    assert cs.opcode == "catchswitch" and cs.operands[0].kind.name == "NONE" and cs.operands[1] is fl.blocks[3]
    cp = fl.blocks[3].instructions[0]
    assert cp.operands[-1] is cs and cp.type == T.TokenType()
    assert fl.blocks[3].terminator.operands == [cp, fl.blocks[1]]


def test_metadata_operands():
    m = parse_llvm("""
declare void @llvm.dbg.value(metadata, metadata, metadata)
define void @f(i32 %x) !dbg !3 {
  call void @llvm.dbg.value(metadata i32 %x, metadata !4, metadata !DIExpression()), !dbg !5
  ret void
}
!llvm.module.flags = !{!0}
!0 = !{i32 2, !"Debug Info Version", i32 3}
!1 = distinct !DICompileUnit(language: DW_LANG_C99, file: !2, emissionKind: FullDebug)
!2 = !DIFile(filename: "a.c", directory: "/")
!3 = distinct !DISubprogram(name: "f", scope: !2, file: !2, unit: !1, spFlags: DISPFlagDefinition)
!4 = !DILocalVariable(name: "x", scope: !3, file: !2)
!5 = !DILocation(line: 1, scope: !3)
""")
    call = m.functions[1].blocks[0].instructions[0]
    assert call.metadata == {"dbg": "!5"}
    md, var, expr, callee = call.operands
    assert md.text == "i32 %x" and md.operands == [m.functions[1].arguments[0]]
    assert var.text == "!4" and expr.text == "!DIExpression()" and str(md.type) == "metadata"
    assert callee is m.functions[0]


def test_users(sink):
    f = sink.get_function("f")
    by = {i.name: i for i in f.instructions() if i.name}
    users = by["inc"].users
    assert by["done"] in users and by["i"] in users and by["r"] in users


def test_numbered_values_and_forward_refs():
    m = parse_llvm("""
define i32 @f(i32, i32 %b) {
  %3 = add i32 %0, %b
  br label %4
4:
  %5 = phi i32 [ %3, %1 ], [ %6, %4 ]
  %6 = add i32 %5, 1
  br label %4
}
""")
    f = m.functions[0]
    a0 = f.arguments[0]
    entry, b4 = f.blocks
    assert a0.name == "" and entry.name == "" and b4.name == ""
    add, br = entry.instructions
    assert add.operands == [a0, f.arguments[1]] and br.operands == [b4]
    phi, inc, _ = b4.instructions
    assert phi.operands == [add, inc] and phi.incoming_blocks == [entry, b4]


def test_implicit_unnamed_call_result_takes_a_number():
    m = parse_llvm("declare i32 @g()\ndefine i32 @f() {\n  call i32 @g()\n  ret i32 %1\n}\n")  # entry is %0
    call, ret = m.functions[1].blocks[0].instructions
    assert ret.operands == [call]


def test_undeclared_intrinsic_is_declared_implicitly():
    m = parse_llvm("define i32 @f(i32 %x) {\n  %r = call i32 @llvm.ctpop.i32(i32 %x)\n  ret i32 %r\n}\n")
    ctpop = m.get_function("llvm.ctpop.i32")
    assert ctpop.is_declaration and ctpop.is_implicit
    assert ctpop.type == T.FunctionType(T.IntType(32), (T.IntType(32),))


def test_typed_pointers_and_old_syntax():
    m = parse_llvm("""
%T = type { i32, [2 x i8*] }
@foo = alias i8, bitcast (i8* (%T*)* @func to i8*)
define i8* @func(%T* %arg) {
  %p = alloca %T
  %q = getelementptr %T, %T* %arg, i32 0, i32 1, i64 1
  %r = load i8*, i8** %q
  %s = getelementptr i8, i8 addrspace(1)* null, i64 1
  ret i8* %r
}
""")
    f = m.get_function("func")
    al, q, r, s, _ = f.blocks[0].instructions
    assert al.type == T.PointerType() and al.allocated_type == T.NamedStructType("T")  # as LLVM 17+ reads it
    assert q.type == T.PointerType(0, T.PointerType(0, T.IntType(8)))
    assert r.type == T.PointerType(0, T.IntType(8)) and str(r.type) == "i8*"
    assert str(s.type) == "i8 addrspace(1)*"
    assert m.aliases[0].aliasee.opcode == "bitcast"


def test_types_are_values():
    assert T.IntType(32) == T.IntType(32) and hash(T.IntType(32)) == hash(T.IntType(32))
    assert T.PointerType() != T.PointerType(1)
    v = T.VectorType(T.FloatType("float"), 4, scalable=True)
    assert str(v) == "<vscale x 4 x float>" and v.is_vector and not v.is_aggregate
    assert str(T.StructType((T.IntType(8),), packed=True)) == "<{ i8 }>"
    assert str(T.FunctionType(T.VoidType(), (T.IntType(32),), True)) == "void (i32, ...)"
    assert str(T.NamedStructType("a b")) == '%"a b"'
    assert T.IntType(1).is_integer and T.FloatType("half").is_float and T.ArrayType(T.IntType(8), 2).is_aggregate
    with pytest.raises(ValueError):
        T.FloatType("float16")
    m = parse_llvm("@t = global target(\"spirv.Image\", void, 1, 0) poison\n@v = global <vscale x 2 x i64> zeroinitializer\n"
                   "@a = global x86_amx undef\n")
    assert str(m.globals[0].value_type) == 'target("spirv.Image", void, 1, 0)'
    assert m.globals[1].value_type == T.VectorType(T.IntType(64), 2, True)
    assert m.globals[2].value_type == T.X86AMXType()


def test_constants():
    m = parse_llvm(r"""
@a = global i64 -9223372036854775808
@b = global i1 true
@c = global i32 u0xFFFFFFFF
@d = global i8 s0xFF
@e = global double 0x7FF0000000000000
@f = global bfloat 0xR3F80
@g = global fp128 0xL00000000000000003FFF000000000000
@h = global ptr null
@i = global i32 undef
@j = global i32 poison
@k = global { i32, float } { i32 1, float 2.0 }
@l = global <2 x i32> splat (i32 7)
@m = global [3 x i8] c"a\5Cb"
@n = global ptr ptrauth (ptr @h, i32 0)
""")
    val = {g.name: g.initializer for g in m.globals}
    assert val["a"].value == -9223372036854775808
    assert val["b"].value == 1 and val["b"].kind.name == "INT"
    assert val["c"].value == 0xFFFFFFFF and val["d"].value == -1
    assert val["e"].value == float("inf") and val["f"].value == 1.0 and val["g"].value == 1.0
    assert [val[k].kind.name for k in "hijk"] == ["NULL", "UNDEF", "POISON", "AGGREGATE"]
    assert val["l"].kind.name == "OTHER" and val["l"].operands[0].value == 7
    assert val["m"].value == b"a\\b" and val["m"].kind.name == "STRING"
    assert val["n"].operands[0] is m.get_global("h")
    assert str(val["k"]) == "{ i32, float } { i32 1, float 2.0 }"


def test_source_forms(tmp_path):
    text = "define void @f() {\n  ret void\n}\n"
    p = tmp_path / "a.ll"
    p.write_text(text)
    assert parse_llvm(p).path == str(p)
    assert parse_llvm_file(str(p)).functions[0].name == "f" and parse_llvm_file(p).path == str(p)
    # a str is text, never a file name, even one that names a file: the error says how to read one
    with pytest.raises(ParseError, match=r"pass pathlib.Path\(.*\) or call parse_llvm_file\(\)"):
        parse_llvm(str(p))
    assert parse_llvm(text.encode()).functions[0].name == "f"
    assert parse_llvm(text).path is None
    with pytest.raises(TypeError):
        parse_llvm(3)


# ------------------------------------------------------------------ errors
ERRORS = [
    ("define i32 @f() {\n  ret i32 %x\n}\n", 2, 11, "use of undefined value '%x'"),
    ("define void @f() {\n  call void @nope()\n  ret void\n}\n", 2, 13, "use of undefined value '@nope'"),
    ("@g = global i32 0\ndefine void @f() {\n  %x = add qq 1, 2\n  ret void\n}\n", 3, 12, "expected type"),
    ("define void @f() {\n  %x = frob i32 1\n}\n", 2, 8, "expected instruction opcode"),
    ("define void @f() {\n  ret void\n", 3, 1, "expected instruction opcode"),
    ("wat\n", 1, 1, "expected top-level entity"),
    ("@g = global i32 0\n@g = global i32 1\n", 2, 1, "redefinition of global '@g'"),
    ("define void @f() {\n  %x = add i32 1, 2\n  %x = add i32 1, 2\n  ret void\n}\n", 3, 3,
     "multiple definition of local value named 'x'"),
    ('@s = global [2 x i8] c"ab\n', 1, 22, "end of file in string constant"),
    ("define void @f() {\n  store i32 1 ptr %p\n  ret void\n}\n", 2, 15, "expected ',' here"),
    ("define void @f() {\n  %v = add i32 1, 2\n  ret void\n}\n\x01", 5, 1, "invalid character in input"),
    ("define void @f(i32 %a) {\n  %x = call void @f(i32 %a)\n  ret void\n}\n", 2, 3,
     "instructions returning void cannot have a name"),
    ("@g = global [2 x i32] [i32 1, i32 2\n", 2, 1, "expected ']' here"),
    ("@g = global i32 0 \n%T = type {i32\n", 3, 1, "expected '}' here"),
    # issue #18: a number glued to a word lexes as the number, then the word; llvm-as-22 says the same
    ("@g = global i32 99x\n", 1, 19, "expected top-level entity"),
    ("@g = global i32 99 x\n", 1, 20, "expected top-level entity"),
    ("@g = global double 1.0e5x\n", 1, 25, "expected top-level entity"),
    ("@g = external global i32 x\n", 1, 26, "expected top-level entity"),
    ("@g = global [2 x i32] [i32 1, i32 2] to\n", 1, 38, "expected top-level entity"),
    ("define void @f() x {\n  ret void\n}\n", 1, 18, "expected '{' here"),
]


def test_global_attributes_without_a_comma_still_parse():
    """What llvm-as-22 accepts after an initializer without a comma: attribute keywords, groups, strings."""
    mod = parse_llvm('@g = global i32 0 nounwind align 4 #0 "k"="v"\nattributes #0 = { "x" }\n')
    assert [g.name for g in mod.globals] == ["g"]


@pytest.mark.parametrize("text,line,col,msg", ERRORS)
def test_errors_have_place_and_message(text, line, col, msg):
    with pytest.raises(ParseError) as ei:
        parse_llvm(text, path="bad.ll")
    e = ei.value
    assert (e.line, e.col, e.message) == (line, col, msg)
    assert e.path == "bad.ll"
    assert str(e).startswith(f"bad.ll:{line}:{col}: error: {msg}")


def test_error_reads_the_file_name(tmp_path):
    p = tmp_path / "broken.ll"
    p.write_text("define void @f() {\n  ret i32 %x\n}\n")
    with pytest.raises(ParseError) as ei:
        parse_llvm(p)
    assert ei.value.path == str(p) and (ei.value.line, ei.value.col) == (2, 11)
    assert ei.value.source_line == "  ret i32 %x"
    assert ei.value.offset == len("define void @f() {\n  ret i32 ")


def test_summarize(sink):
    from irtools.ir.llvm.stats import summarize

    s = summarize(sink)
    assert (s["functions"], s["declarations"]) == (4, 3)
    assert s["globals"] == 13 and s["aliases"] == 1 and s["ifuncs"] == 1
    assert s["blocks"] == sum(len(f.blocks) for f in sink.functions)
    assert s["instructions"] == len(list(sink.instructions())) == sum(s["opcodes"].values())
    defined = [f for f in sink.functions if not f.is_declaration]
    assert s["function_sizes"] == [len(list(f.instructions())) for f in defined]
    assert sum(s["function_sizes"]) == s["instructions"] and min(s["function_sizes"]) > 0
    assert s["opcodes"]["phi"] == 2 and s["opcodes"]["invoke"] == 2
    assert s["bytes"] == len(KITCHEN_SINK.encode())


def test_index_follows_list_edits(sink):
    m = parse_llvm(KITCHEN_SINK)
    for f in m.functions:
        for b in f.blocks:
            assert f.blocks[b.index] is b
            assert all(b.instructions[i.index] is i for i in b.instructions)
    entry = m.get_function("f").blocks[0]
    second = entry.instructions[1]
    entry.instructions.pop(0)
    assert second.index == 0


def test_operands_match_llvmlite_on_clang_output(clang_corpus):
    """Operand order and kinds equal LLVM 22's (llvmlite's ``ValueRef.operands``) for every
    instruction clang-22 emits: switch case values, branch order, callee last..."""
    llvm = pytest.importorskip("llvmlite.binding")
    from irtools.ir.llvm import module as M

    kinds = {M.Block: "basic_block", M.Argument: "argument", M.Instruction: "instruction",
             M.Function: "function", M.GlobalVariable: "global_variable", M.GlobalAlias: "global_alias",
             M.GlobalIFunc: "global_ifunc", M.InlineAsm: "inline_asm", M.MetadataValue: "metadata_as_value"}

    def theirs(o) -> str:
        k = o.value_kind.name
        return "constant" if k.startswith("constant") or k in ("undef_value", "poison_value") else k

    switches = 0
    for path in clang_corpus:
        text = path.read_text()
        ours, ref = parse_llvm(text), llvm.parse_assembly(text)
        ref_fns = {f.name: f for f in ref.functions}
        for f in ours.functions:
            if f.is_declaration:
                continue
            theirs_insts = [i for b in ref_fns[f.name].blocks for i in b.instructions]
            mine = list(f.instructions())
            assert len(mine) == len(theirs_insts), (path, f.name)
            for a, b in zip(mine, theirs_insts, strict=True):
                assert a.opcode == b.opcode
                assert [kinds.get(type(o), "constant") for o in a.operands] == [theirs(o) for o in b.operands], \
                    (path.name, f.name, a.text)
                if a.opcode == "switch":
                    switches += 1
                    assert [o.name for o in a.operands[2:]] == [o.name for o in list(b.operands)[2:]]
                    assert len(a.switch_cases) == len(a.operands) - 2
    assert switches  # the bundled programs have switches; the check above must have run


def test_stats_cli_prints_function_sizes(tmp_path):
    """``irtools stats`` reads ``function_sizes`` from the summary: a real size row, not zeros."""
    import json
    import subprocess
    import sys

    p = tmp_path / "sink.ll"
    p.write_text(KITCHEN_SINK)
    r = subprocess.run([sys.executable, "-m", "irtools", "stats", "--json", "-j", "1", str(p)],
                       capture_output=True, text=True, check=True)
    size = json.loads(r.stdout)["kinds"]["llvm"]["function_size"]
    sizes = [len(list(f.instructions())) for f in parse_llvm(KITCHEN_SINK).functions if not f.is_declaration]
    assert size["max"] == max(sizes) and size["mean"] == pytest.approx(sum(sizes) / len(sizes))


HEADERS = """
@a = alias void (), ptr @later
@i = ifunc void (), ptr @resolver
@g = global { ptr, ptr } { ptr @later, ptr @gv }
@gv = global i32 1
define void @f() prefix i32 123 prologue <{ i8, i8 }> <{ i8 -21, i8 20 }> personality ptr @pers {
  ret void
}
define void @k() addrspace(1) {
  ret void
}
define void @later() {
  ret void
}
define ptr @resolver() {
  ret ptr @later
}
declare i32 @pers(...)
"""


def test_forward_references_in_global_initializers():
    from conftest import need_tool

    subprocess.run([need_tool("llvm-as-22"), "-o", os.devnull, "-"], input=HEADERS, text=True, check=True)
    m = parse_llvm(HEADERS)
    later = m.get_function("later")
    assert m.get_global("a").aliasee is later
    assert m.get_global("i").resolver is m.get_function("resolver")
    assert m.get_global("g").initializer.operands == [later, m.get_global("gv")]


def test_personality_prefix_prologue_and_addrspace():
    m = parse_llvm(HEADERS)
    f, k, later = (m.get_function(n) for n in ("f", "k", "later"))
    assert f.personality is m.get_function("pers")   # declared after its use
    assert f.prefix_data.value == 123 and f.prefix_data.type == T.IntType(32)
    assert f.prologue_data.kind.name == "AGGREGATE" and [c.value for c in f.prologue_data.operands] == [-21, 20]
    assert later.personality is later.prefix_data is later.prologue_data is None
    assert k.addrspace == 1 and later.addrspace == 0   # stated, else the data layout's program space
    h = "define void @h() {\n  ret void\n}\n"
    assert parse_llvm('target datalayout = "e-P2"\n' + h).get_function("h").addrspace == 2
    assert "addrspace(1)" in str(m) and "personality ptr @pers" in str(m)


LLVM_AS = shutil.which("llvm-as-22")


@pytest.mark.parametrize("text, ref", [
    # @"" is an unnamed global: numbered like one, and referenced as @N
    ('@"" = global i32 0\ndefine ptr @f() {\n  ret ptr @0\n}\n', "@0"),
    ('@"" = global i32 0\n@"" = global i32 1\n@2 = global i32 2\ndefine ptr @f() {\n  ret ptr @1\n}\n', "@1"),
    ('define void @""() {\n  ret void\n}\n@"" = global i32 1\ndefine ptr @g() {\n  ret ptr @1\n}\n', "@1"),
    ('define ptr @g() {\n  ret ptr @0\n}\n@"" = global i32 1\n', "@0"),   # used before it is defined
])
def test_unnamed_quoted_global(text, ref):
    if LLVM_AS:  # the reference tool accepts each of these
        assert subprocess.run([LLVM_AS, "-o", "/dev/null"], input=text, text=True).returncode == 0
    m = parse_llvm(text)
    g = [f for f in m.functions if f.name == "f" or f.name == "g"][0]
    ret = list(g.instructions())[-1]
    assert ret.operands[0].ref == ref
    printed = str(m)
    assert '@""' not in printed and str(parse_llvm(printed)) == printed
    if LLVM_AS:
        assert subprocess.run([LLVM_AS, "-o", "/dev/null"], input=printed, text=True).returncode == 0


def test_unnamed_quoted_global_takes_its_number():
    text = '@"" = global i32 0\n@0 = global i32 1\n'   # @"" already is @0
    if LLVM_AS:
        r = subprocess.run([LLVM_AS, "-o", "/dev/null"], input=text, text=True, capture_output=True)
        assert "<stdin>:2:1: error: global expected to be numbered '@1' or greater" in r.stderr
    with pytest.raises(ParseError, match="global expected to be numbered '@1' or greater") as ei:
        parse_llvm(text)
    assert (ei.value.line, ei.value.col) == (2, 1)


def test_tokens_without_whitespace():
    text = ("define <16 x i32> @f(ptr %p) {\n%v=load <16 x i32>,ptr %p\n%w=add<16 x i32>%v,%v\n"
            "%x=getelementptr i8,ptr%p,i64 1\n  ret<16 x i32>%w\n}\n")
    if LLVM_AS:
        assert subprocess.run([LLVM_AS, "-o", "/dev/null"], input=text, text=True).returncode == 0
    f = parse_llvm(text).functions[0]
    assert [i.opcode for i in f.instructions()] == ["load", "add", "getelementptr", "ret"]
    # `%0load ...` (no '=') is not LLVM IR: llvm-as-22 says "expected '=' after instruction id"
    bad = "define <16 x i32> @f(ptr %1) {\n%0load <16 x i32>, ptr %1\n  ret <16 x i32> %0\n}\n"
    if LLVM_AS:
        assert subprocess.run([LLVM_AS, "-o", "/dev/null"], input=bad, text=True,
                              capture_output=True).returncode != 0
    with pytest.raises(ParseError) as ei:
        parse_llvm(bad)
    assert ei.value.line == 2


def test_a_module_whose_views_were_made_is_freed():
    """Views and their module form a cycle; no object array may hide it from the cycle collector (one did,
    and a pass over a corpus kept every module it had walked)."""
    import gc

    from irtools.ir.llvm.module import Module

    gc.collect()
    before = sum(isinstance(o, Module) for o in gc.get_objects())
    for _ in range(3):
        m = parse_llvm(KITCHEN_SINK)
        assert sum(len(b.instructions) for f in m.functions for b in f.blocks) > 0
        assert next(f for f in m.functions if f.blocks).blocks[0].instructions[0].index == 0   # gathers views
        del m
    gc.collect()
    assert sum(isinstance(o, Module) for o in gc.get_objects()) == before
