/* llfeatures: the cost model's LLVM features, the one production definition, over llparse's tables.
 *
 * What LLVM has an analysis for is checked against opt-22 (tests/test_costmodel_llvm_oracle.py); the
 * rest against a Python reference kept in tests (tests/llvm_feature_reference.py), whose function
 * names the comments below cite (`_trip_count`, `_machine_ops`...), as they cite irtools.analysis for
 * func-properties and constant folding.  The shipped model was trained on these numbers, so their
 * quirks stay (a float sum keeps its order).  What this file cannot compute leaves NaN in the columns
 * it decides, with a reason bit (R_* below), never another number.
 */
#define _GNU_SOURCE   /* memmem */
#include "llfeatures.h"
#include "llparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

/* Integer constants, type sizes and trip-count arithmetic are exact in 128 bits (LLVM's i128
 * constants included); what does not fit sets R_BIGINT and leaves NaN, never a wrapped value. */
typedef __int128 i128;
typedef unsigned __int128 u128;
#define I128_MAX ((i128)(~(u128)0 >> 1))
#define I128_MIN (-I128_MAX - 1)

/* generated from irtoolkit.costmodel.features.FEATURE_NAMES (the LLVM part); the test checks they agree */
static const char *const COLUMN_NAMES[] = {
    "ir.fp.BasicBlockCount", "ir.fp.BlocksReachedFromConditionalInstruction", "ir.fp.Uses",
    "ir.fp.DirectCallsToDefinedFunctions", "ir.fp.LoadInstCount", "ir.fp.StoreInstCount", "ir.fp.MaxLoopDepth",
    "ir.fp.TopLevelLoopCount", "ir.fp.TotalInstructionCount", "ir.fp.BasicBlocksWithSingleSuccessor",
    "ir.fp.BasicBlocksWithTwoSuccessors", "ir.fp.BasicBlocksWithMoreThanTwoSuccessors",
    "ir.fp.BasicBlocksWithSinglePredecessor", "ir.fp.BasicBlocksWithTwoPredecessors",
    "ir.fp.BasicBlocksWithMoreThanTwoPredecessors", "ir.fp.BigBasicBlocks", "ir.fp.MediumBasicBlocks",
    "ir.fp.SmallBasicBlocks", "ir.fp.CastInstructionCount", "ir.fp.FloatingPointInstructionCount",
    "ir.fp.IntegerInstructionCount", "ir.fp.ConstantIntOperandCount", "ir.fp.ConstantFPOperandCount",
    "ir.fp.ConstantOperandCount", "ir.fp.InstructionOperandCount", "ir.fp.BasicBlockOperandCount",
    "ir.fp.GlobalValueOperandCount", "ir.fp.InlineAsmOperandCount", "ir.fp.ArgumentOperandCount",
    "ir.fp.UnknownOperandCount", "ir.fp.CriticalEdgeCount", "ir.fp.ControlFlowEdgeCount",
    "ir.fp.UnconditionalBranchCount", "ir.fp.ConditionalBranchCount", "ir.fp.BranchInstructionCount",
    "ir.fp.BranchSuccessorCount", "ir.fp.SwitchInstructionCount", "ir.fp.SwitchSuccessorCount",
    "ir.fp.IntrinsicCount", "ir.fp.DirectCallCount", "ir.fp.IndirectCallCount", "ir.fp.CallReturnsIntegerCount",
    "ir.fp.CallReturnsFloatCount", "ir.fp.CallReturnsPointerCount", "ir.fp.CallReturnsVectorIntCount",
    "ir.fp.CallReturnsVectorFloatCount", "ir.fp.CallReturnsVectorPointerCount",
    "ir.fp.CallWithManyArgumentsCount", "ir.fp.CallWithPointerArgumentCount", "ir.op.ret", "ir.op.br",
    "ir.op.switch", "ir.op.indirectbr", "ir.op.invoke", "ir.op.resume", "ir.op.unreachable", "ir.op.cleanupret",
    "ir.op.catchret", "ir.op.catchswitch", "ir.op.callbr", "ir.op.fneg", "ir.op.add", "ir.op.fadd", "ir.op.sub",
    "ir.op.fsub", "ir.op.mul", "ir.op.fmul", "ir.op.udiv", "ir.op.sdiv", "ir.op.fdiv", "ir.op.urem",
    "ir.op.srem", "ir.op.frem", "ir.op.shl", "ir.op.lshr", "ir.op.ashr", "ir.op.and", "ir.op.or", "ir.op.xor",
    "ir.op.alloca", "ir.op.load", "ir.op.store", "ir.op.getelementptr", "ir.op.fence", "ir.op.cmpxchg",
    "ir.op.atomicrmw", "ir.op.trunc", "ir.op.zext", "ir.op.sext", "ir.op.fptoui", "ir.op.fptosi",
    "ir.op.uitofp", "ir.op.sitofp", "ir.op.fptrunc", "ir.op.fpext", "ir.op.ptrtoint", "ir.op.ptrtoaddr",
    "ir.op.inttoptr", "ir.op.bitcast", "ir.op.addrspacecast", "ir.op.cleanuppad", "ir.op.catchpad",
    "ir.op.icmp", "ir.op.fcmp", "ir.op.phi", "ir.op.call", "ir.op.select", "ir.op.va_arg",
    "ir.op.extractelement", "ir.op.insertelement", "ir.op.shufflevector", "ir.op.extractvalue",
    "ir.op.insertvalue", "ir.op.landingpad", "ir.op.freeze", "ir.ty.void", "ir.ty.i1", "ir.ty.i8", "ir.ty.i16",
    "ir.ty.i32", "ir.ty.i64", "ir.ty.i128", "ir.ty.int_other", "ir.ty.half", "ir.ty.bfloat", "ir.ty.float",
    "ir.ty.double", "ir.ty.fp_other", "ir.ty.ptr", "ir.ty.vec_int", "ir.ty.vec_fp", "ir.ty.vec_ptr",
    "ir.ty.struct", "ir.ty.array", "ir.ty.token", "ir.ty.other", "ir.cfg.blocks_total",
    "ir.cfg.unreachable_blocks", "ir.cfg.loops", "ir.cfg.max_loop_blocks", "ir.cfg.domtree_depth",
    "ir.cfg.back_edges", "ir.fn.arguments", "ir.fn.pointer_arguments", "ir.fn.is_vararg",
    "ir.fn.instructions_in_loops", "ir.fn.memory_ops_in_loops", "ir.fn.calls_in_loops", "ir.fn.phis",
    "x.n_loops_const_trip", "x.n_loops_unknown_trip", "x.max_trip", "x.log_trip_product_max", "x.insts_depth1",
    "x.insts_depth2", "x.insts_depth3plus", "x.log_est_dyn_insts", "x.log_est_dyn_mem", "x.log_est_dyn_fp",
    "x.log_est_dyn_vector", "x.log_est_dyn_insts_incl", "x.n_calls_defined", "x.n_mem_intrinsics",
    "x.log_memop_bytes", "x.max_vector_width", "x.max_vector_bits", "x.vector_values", "x.vector_loads",
    "x.vector_stores", "x.loads_in_loops", "x.stores_in_loops", "x.gep_const_only", "x.gep_multi_index",
    "x.const_int_operands", "x.fp_ops", "x.int_ops", "x.max_live", "x.max_live_regs", "x.mean_live", "x.values",
    "x.wide_values", "x.max_phi_per_block", "x.max_block_insts", "x.unrolled_chain", "x.log_est_machine_ops",
    "cpu.sse4.2", "cpu.avx", "cpu.avx2", "cpu.fma", "cpu.avx512f", "cpu.bmi2", "cpu.prefer_vector_width",
    "gpu.is_kernel", "gpu.shared_bytes", "gpu.shared_accesses", "gpu.global_loads", "gpu.global_stores",
    "gpu.special_reg_reads", "gpu.barriers", "gpu.max_threads", "gpu.fma_ops", "gpu.i64_ops", "ng.0", "ng.1",
    "ng.2", "ng.3", "ng.4", "ng.5", "ng.6", "ng.7", "ng.8", "ng.9", "ng.10", "ng.11", "ng.12", "ng.13", "ng.14",
    "ng.15", "ng.16", "ng.17", "ng.18", "ng.19", "ng.20", "ng.21", "ng.22", "ng.23", "ng.24", "ng.25", "ng.26",
    "ng.27", "ng.28", "ng.29", "ng.30", "ng.31", "ng.32", "ng.33", "ng.34", "ng.35", "ng.36", "ng.37", "ng.38",
    "ng.39", "ng.40", "ng.41", "ng.42", "ng.43", "ng.44", "ng.45", "ng.46", "ng.47", "ng.48", "ng.49", "ng.50",
    "ng.51", "ng.52", "ng.53", "ng.54", "ng.55", "ng.56", "ng.57", "ng.58", "ng.59", "ng.60", "ng.61", "ng.62",
    "ng.63", "tok.0", "tok.1", "tok.2", "tok.3", "tok.4", "tok.5", "tok.6", "tok.7", "tok.8", "tok.9", "tok.10",
    "tok.11", "tok.12", "tok.13", "tok.14", "tok.15", "tok.16", "tok.17", "tok.18", "tok.19", "tok.20",
    "tok.21", "tok.22", "tok.23", "tok.24", "tok.25", "tok.26", "tok.27", "tok.28", "tok.29", "tok.30",
    "tok.31", "tok.32", "tok.33", "tok.34", "tok.35", "tok.36", "tok.37", "tok.38", "tok.39", "tok.40",
    "tok.41", "tok.42", "tok.43", "tok.44", "tok.45", "tok.46", "tok.47", "tok.48", "tok.49", "tok.50",
    "tok.51", "tok.52", "tok.53", "tok.54", "tok.55", "tok.56", "tok.57", "tok.58", "tok.59", "tok.60",
    "tok.61", "tok.62", "tok.63",
    /* lowering: what x86-64 code generation makes of the IR (see lowering()) */
    "lo.est", "lo.calls", "lo.tail_calls", "lo.call_cost", "lo.moved_args", "lo.call_args", "lo.stack_args", "lo.live_across_max", "lo.live_across_sum", "lo.csr", "lo.frame", "lo.ssp", "lo.vararg", "lo.mem_inline", "lo.free_intrinsics", "lo.free_casts", "lo.gep_folded", "lo.load_folded", "lo.cmp_fused", "lo.cmp_unfused", "lo.zext_free", "lo.zext_i1", "lo.br_fallthrough", "lo.empty_blocks", "lo.switch_cases", "lo.switch_cost", "lo.div_const", "lo.div_var64", "lo.minmax", "lo.const_stores", "lo.big_consts", "lo.rets", "lo.bytes", "lo.pressure",
    "lo.pressure_gpr", "lo.pressure_fp", "lo.across_gpr_max", "lo.across_fp_max", "lo.across_fp_sum", "lo.across_gpr_excess", "lo.over_gpr", "lo.over_fp",
    "lo.disp8", "lo.disp32", "lo.rip", "lo.imm8", "lo.imm32", "lo.imm_mov", "lo.long_branches", "lo.got", "lo.mem_tail", "lo.dup_blocks",
};
enum {
    C_ir_fp_BasicBlockCount = 0,
    C_ir_fp_BlocksReachedFromConditionalInstruction = 1,
    C_ir_fp_Uses = 2,
    C_ir_fp_DirectCallsToDefinedFunctions = 3,
    C_ir_fp_LoadInstCount = 4,
    C_ir_fp_StoreInstCount = 5,
    C_ir_fp_MaxLoopDepth = 6,
    C_ir_fp_TopLevelLoopCount = 7,
    C_ir_fp_TotalInstructionCount = 8,
    C_ir_fp_BasicBlocksWithSingleSuccessor = 9,
    C_ir_fp_BasicBlocksWithTwoSuccessors = 10,
    C_ir_fp_BasicBlocksWithMoreThanTwoSuccessors = 11,
    C_ir_fp_BasicBlocksWithSinglePredecessor = 12,
    C_ir_fp_BasicBlocksWithTwoPredecessors = 13,
    C_ir_fp_BasicBlocksWithMoreThanTwoPredecessors = 14,
    C_ir_fp_BigBasicBlocks = 15,
    C_ir_fp_MediumBasicBlocks = 16,
    C_ir_fp_SmallBasicBlocks = 17,
    C_ir_fp_CastInstructionCount = 18,
    C_ir_fp_FloatingPointInstructionCount = 19,
    C_ir_fp_IntegerInstructionCount = 20,
    C_ir_fp_ConstantIntOperandCount = 21,
    C_ir_fp_ConstantFPOperandCount = 22,
    C_ir_fp_ConstantOperandCount = 23,
    C_ir_fp_InstructionOperandCount = 24,
    C_ir_fp_BasicBlockOperandCount = 25,
    C_ir_fp_GlobalValueOperandCount = 26,
    C_ir_fp_InlineAsmOperandCount = 27,
    C_ir_fp_ArgumentOperandCount = 28,
    C_ir_fp_UnknownOperandCount = 29,
    C_ir_fp_CriticalEdgeCount = 30,
    C_ir_fp_ControlFlowEdgeCount = 31,
    C_ir_fp_UnconditionalBranchCount = 32,
    C_ir_fp_ConditionalBranchCount = 33,
    C_ir_fp_BranchInstructionCount = 34,
    C_ir_fp_BranchSuccessorCount = 35,
    C_ir_fp_SwitchInstructionCount = 36,
    C_ir_fp_SwitchSuccessorCount = 37,
    C_ir_fp_IntrinsicCount = 38,
    C_ir_fp_DirectCallCount = 39,
    C_ir_fp_IndirectCallCount = 40,
    C_ir_fp_CallReturnsIntegerCount = 41,
    C_ir_fp_CallReturnsFloatCount = 42,
    C_ir_fp_CallReturnsPointerCount = 43,
    C_ir_fp_CallReturnsVectorIntCount = 44,
    C_ir_fp_CallReturnsVectorFloatCount = 45,
    C_ir_fp_CallReturnsVectorPointerCount = 46,
    C_ir_fp_CallWithManyArgumentsCount = 47,
    C_ir_fp_CallWithPointerArgumentCount = 48,
    C_ir_op_ret = 49,
    C_ir_op_br = 50,
    C_ir_op_switch = 51,
    C_ir_op_indirectbr = 52,
    C_ir_op_invoke = 53,
    C_ir_op_resume = 54,
    C_ir_op_unreachable = 55,
    C_ir_op_cleanupret = 56,
    C_ir_op_catchret = 57,
    C_ir_op_catchswitch = 58,
    C_ir_op_callbr = 59,
    C_ir_op_fneg = 60,
    C_ir_op_add = 61,
    C_ir_op_fadd = 62,
    C_ir_op_sub = 63,
    C_ir_op_fsub = 64,
    C_ir_op_mul = 65,
    C_ir_op_fmul = 66,
    C_ir_op_udiv = 67,
    C_ir_op_sdiv = 68,
    C_ir_op_fdiv = 69,
    C_ir_op_urem = 70,
    C_ir_op_srem = 71,
    C_ir_op_frem = 72,
    C_ir_op_shl = 73,
    C_ir_op_lshr = 74,
    C_ir_op_ashr = 75,
    C_ir_op_and = 76,
    C_ir_op_or = 77,
    C_ir_op_xor = 78,
    C_ir_op_alloca = 79,
    C_ir_op_load = 80,
    C_ir_op_store = 81,
    C_ir_op_getelementptr = 82,
    C_ir_op_fence = 83,
    C_ir_op_cmpxchg = 84,
    C_ir_op_atomicrmw = 85,
    C_ir_op_trunc = 86,
    C_ir_op_zext = 87,
    C_ir_op_sext = 88,
    C_ir_op_fptoui = 89,
    C_ir_op_fptosi = 90,
    C_ir_op_uitofp = 91,
    C_ir_op_sitofp = 92,
    C_ir_op_fptrunc = 93,
    C_ir_op_fpext = 94,
    C_ir_op_ptrtoint = 95,
    C_ir_op_ptrtoaddr = 96,
    C_ir_op_inttoptr = 97,
    C_ir_op_bitcast = 98,
    C_ir_op_addrspacecast = 99,
    C_ir_op_cleanuppad = 100,
    C_ir_op_catchpad = 101,
    C_ir_op_icmp = 102,
    C_ir_op_fcmp = 103,
    C_ir_op_phi = 104,
    C_ir_op_call = 105,
    C_ir_op_select = 106,
    C_ir_op_va_arg = 107,
    C_ir_op_extractelement = 108,
    C_ir_op_insertelement = 109,
    C_ir_op_shufflevector = 110,
    C_ir_op_extractvalue = 111,
    C_ir_op_insertvalue = 112,
    C_ir_op_landingpad = 113,
    C_ir_op_freeze = 114,
    C_ir_ty_void = 115,
    C_ir_ty_i1 = 116,
    C_ir_ty_i8 = 117,
    C_ir_ty_i16 = 118,
    C_ir_ty_i32 = 119,
    C_ir_ty_i64 = 120,
    C_ir_ty_i128 = 121,
    C_ir_ty_int_other = 122,
    C_ir_ty_half = 123,
    C_ir_ty_bfloat = 124,
    C_ir_ty_float = 125,
    C_ir_ty_double = 126,
    C_ir_ty_fp_other = 127,
    C_ir_ty_ptr = 128,
    C_ir_ty_vec_int = 129,
    C_ir_ty_vec_fp = 130,
    C_ir_ty_vec_ptr = 131,
    C_ir_ty_struct = 132,
    C_ir_ty_array = 133,
    C_ir_ty_token = 134,
    C_ir_ty_other = 135,
    C_ir_cfg_blocks_total = 136,
    C_ir_cfg_unreachable_blocks = 137,
    C_ir_cfg_loops = 138,
    C_ir_cfg_max_loop_blocks = 139,
    C_ir_cfg_domtree_depth = 140,
    C_ir_cfg_back_edges = 141,
    C_ir_fn_arguments = 142,
    C_ir_fn_pointer_arguments = 143,
    C_ir_fn_is_vararg = 144,
    C_ir_fn_instructions_in_loops = 145,
    C_ir_fn_memory_ops_in_loops = 146,
    C_ir_fn_calls_in_loops = 147,
    C_ir_fn_phis = 148,
    C_x_n_loops_const_trip = 149,
    C_x_n_loops_unknown_trip = 150,
    C_x_max_trip = 151,
    C_x_log_trip_product_max = 152,
    C_x_insts_depth1 = 153,
    C_x_insts_depth2 = 154,
    C_x_insts_depth3plus = 155,
    C_x_log_est_dyn_insts = 156,
    C_x_log_est_dyn_mem = 157,
    C_x_log_est_dyn_fp = 158,
    C_x_log_est_dyn_vector = 159,
    C_x_log_est_dyn_insts_incl = 160,
    C_x_n_calls_defined = 161,
    C_x_n_mem_intrinsics = 162,
    C_x_log_memop_bytes = 163,
    C_x_max_vector_width = 164,
    C_x_max_vector_bits = 165,
    C_x_vector_values = 166,
    C_x_vector_loads = 167,
    C_x_vector_stores = 168,
    C_x_loads_in_loops = 169,
    C_x_stores_in_loops = 170,
    C_x_gep_const_only = 171,
    C_x_gep_multi_index = 172,
    C_x_const_int_operands = 173,
    C_x_fp_ops = 174,
    C_x_int_ops = 175,
    C_x_max_live = 176,
    C_x_max_live_regs = 177,
    C_x_mean_live = 178,
    C_x_values = 179,
    C_x_wide_values = 180,
    C_x_max_phi_per_block = 181,
    C_x_max_block_insts = 182,
    C_x_unrolled_chain = 183,
    C_x_log_est_machine_ops = 184,
    C_cpu_sse4_2 = 185,
    C_cpu_avx = 186,
    C_cpu_avx2 = 187,
    C_cpu_fma = 188,
    C_cpu_avx512f = 189,
    C_cpu_bmi2 = 190,
    C_cpu_prefer_vector_width = 191,
    C_gpu_is_kernel = 192,
    C_gpu_shared_bytes = 193,
    C_gpu_shared_accesses = 194,
    C_gpu_global_loads = 195,
    C_gpu_global_stores = 196,
    C_gpu_special_reg_reads = 197,
    C_gpu_barriers = 198,
    C_gpu_max_threads = 199,
    C_gpu_fma_ops = 200,
    C_gpu_i64_ops = 201,
    C_ng_0 = 202,
    C_tok_0 = 266,
    C_lo_est = 330,
    C_lo_calls = 331,
    C_lo_tail_calls = 332,
    C_lo_call_cost = 333,
    C_lo_moved_args = 334,
    C_lo_call_args = 335,
    C_lo_stack_args = 336,
    C_lo_live_across_max = 337,
    C_lo_live_across_sum = 338,
    C_lo_csr = 339,
    C_lo_frame = 340,
    C_lo_ssp = 341,
    C_lo_vararg = 342,
    C_lo_mem_inline = 343,
    C_lo_free_intrinsics = 344,
    C_lo_free_casts = 345,
    C_lo_gep_folded = 346,
    C_lo_load_folded = 347,
    C_lo_cmp_fused = 348,
    C_lo_cmp_unfused = 349,
    C_lo_zext_free = 350,
    C_lo_zext_i1 = 351,
    C_lo_br_fallthrough = 352,
    C_lo_empty_blocks = 353,
    C_lo_switch_cases = 354,
    C_lo_switch_cost = 355,
    C_lo_div_const = 356,
    C_lo_div_var64 = 357,
    C_lo_minmax = 358,
    C_lo_const_stores = 359,
    C_lo_big_consts = 360,
    C_lo_rets = 361,
    C_lo_bytes = 362,
    C_lo_pressure = 363,
    C_lo_pressure_gpr = 364,
    C_lo_pressure_fp = 365,
    C_lo_across_gpr_max = 366,
    C_lo_across_fp_max = 367,
    C_lo_across_fp_sum = 368,
    C_lo_across_gpr_excess = 369,
    C_lo_over_gpr = 370,
    C_lo_over_fp = 371,
    C_lo_disp8 = 372,
    C_lo_disp32 = 373,
    C_lo_rip = 374,
    C_lo_imm8 = 375,
    C_lo_imm32 = 376,
    C_lo_imm_mov = 377,
    C_lo_long_branches = 378,
    C_lo_got = 379,
    C_lo_mem_tail = 380,
    C_lo_dup_blocks = 381,
    NCOLS = 382
};

/* ------------------------------------------------------------------ why a row holds NaN */
/* What this file cannot compute leaves NaN in the columns that depend on it, never another number,
 * and sets the row's reason bit (llf_reason_name()); a row without reasons is exact. */
enum {
    R_CONSTEXPR = 1 << 0,   /* a constant expression too deeply nested to fold: operand classes, calls */
    R_USES = 1 << 1,        /* the function is used inside such an expression: ir.fp.Uses */
    R_BIGINT = 1 << 2,      /* an integer past 128 bits, a type past 2^90 bits, a launch bound past 2^63 */
    R_CALLEE = 1 << 3,      /* calls a defined function whose estimate is NaN: x.log_est_dyn_insts_incl */
    R_SHAPE = 1 << 4,       /* tables shaped unlike clean parser output (never on real IR): the whole row */
    R_NBITS = 5
};
static const char *const REASON_NAMES[] = {"constexpr", "uses", "bigint", "callee", "shape", NULL};

/* ------------------------------------------------------------------ table columns (llparse.h) */
enum { V_KIND, V_INDEX, V_TYPE };
enum { I_OP, I_FLAGS, I_TYPE, I_BLOCK, I_OPSTART, I_NOPS, I_NTOTAL, I_OFF, I_END, I_NAMEOFF, I_NAMELEN, I_KEY,
       I_REFS, I_REFE, I_MD, I_VID, I_AUX, I_NARGS };
enum { B_FUNC, B_NAMEOFF, B_NAMELEN, B_ISTART, B_ICOUNT, B_VID };
enum { F_VID, F_NAMEOFF, F_NAMELEN, F_TYPE, F_ASTART, F_ACOUNT, F_BSTART, F_BCOUNT, F_DECL, F_OFF, F_HDREND,
       F_END, F_AS = 19 };
enum { A_FUNC, A_TYPE, A_NAMEOFF, A_NAMELEN, A_VID, A_INDEX };
enum { G_KIND, G_VID, G_NAMEOFF, G_NAMELEN, G_VTYPE, G_INIT, G_OFF, G_END, G_REFS, G_REFE, G_CONST, G_AS };
enum { T_KIND, T_A, T_B, T_C, T_LOFF, T_LLEN };
enum { N_NAMEOFF, N_NAMELEN, N_TYPE, N_BODY };
enum { C_KIND, C_TYPE, C_OFF, C_END, C_OPSTART, C_OPCOUNT };
enum { E_KIND, E_INDEX, E_OFF, E_END, E_REFS, E_REFE, E_WHAT };

/* the Python view class of a value (irtools.ir.llvm.module._VIEW_CLASSES) */
enum { PY_NONE, PY_FUNC, PY_GVAR, PY_ALIAS, PY_IFUNC, PY_ARG, PY_INST, PY_BLOCK, PY_CONST, PY_MD, PY_ASM };

/* LLVM's operand classes in FunctionPropertiesAnalysis, as feature columns */
enum { OC_GLOBAL = C_ir_fp_GlobalValueOperandCount, OC_CINT = C_ir_fp_ConstantIntOperandCount,
       OC_CFP = C_ir_fp_ConstantFPOperandCount, OC_CONST = C_ir_fp_ConstantOperandCount,
       OC_INST = C_ir_fp_InstructionOperandCount, OC_BLOCK = C_ir_fp_BasicBlockOperandCount,
       OC_ASM = C_ir_fp_InlineAsmOperandCount, OC_ARG = C_ir_fp_ArgumentOperandCount,
       OC_UNKNOWN = C_ir_fp_UnknownOperandCount };

/* FLOAT_KINDS of irtools.ir.llvm.types, the TYPES `a` column of a floating-point type */
enum { FK_HALF, FK_BFLOAT, FK_FLOAT, FK_DOUBLE, FK_X86_FP80, FK_FP128, FK_PPC_FP128 };

enum { TY_OPAQUE = -2 };   /* what a named type with no body resolves to */

/* ------------------------------------------------------------------ opcodes */
static const char *const LLVM_OPCODES[] = {
    "ret", "br", "switch", "indirectbr", "invoke", "resume", "unreachable", "cleanupret", "catchret",
    "catchswitch", "callbr", "fneg", "add", "fadd", "sub", "fsub", "mul", "fmul", "udiv", "sdiv", "fdiv",
    "urem", "srem", "frem", "shl", "lshr", "ashr", "and", "or", "xor", "alloca", "load", "store",
    "getelementptr", "fence", "cmpxchg", "atomicrmw", "trunc", "zext", "sext", "fptoui", "fptosi",
    "uitofp", "sitofp", "fptrunc", "fpext", "ptrtoint", "ptrtoaddr", "inttoptr", "bitcast",
    "addrspacecast", "cleanuppad", "catchpad", "icmp", "fcmp", "phi", "call", "select", "va_arg",
    "extractelement", "insertelement", "shufflevector", "extractvalue", "insertvalue", "landingpad",
    "freeze", NULL};

enum { OPF_TERM = 1, OPF_CAST = 2, OPF_CALL = 4, OPF_FP = 8, OPF_INT = 16 };
enum { LO_FREE = 1, LO_FOLD = 2, LO_DIV = 4, LO_ZERO = 8 };

typedef struct {
    int n;                  /* opcode ids are 1..n-1 */
    int16_t llvm[256];      /* index in LLVM_OPCODES, or -1 */
    uint8_t flags[256];
    const char *name[256];
    int len[256];
    int call, invoke, callbr, phi, br, sw, load, store, gep, icmp, add, sub, or_, alloca_, bitcast, ascast, trunc,
        zext, sext, and_, select, fcmp_, ret;
    int32_t tail_flags;     /* the INSTS flag bits of `tail` and `musttail` */
    uint8_t lo[256];        /* LO_* of each opcode, for lowering() */
} opinfo_t;

static opinfo_t OPS;

static int in_list(const char *s, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0) return i;
    return -1;
}

static void init_ops(void) {
    static const char *const term[] = {"ret", "br", "switch", "indirectbr", "invoke", "resume", "unreachable",
                                       "cleanupret", "catchret", "catchswitch", "callbr", NULL};
    static const char *const cast[] = {"trunc", "zext", "sext", "fptoui", "fptosi", "uitofp", "sitofp",
                                       "fptrunc", "fpext", "ptrtoint", "ptrtoaddr", "inttoptr", "bitcast",
                                       "addrspacecast", NULL};
    static const char *const fp[] = {"fadd", "fsub", "fmul", "fdiv", "frem", "fneg", "fcmp", NULL};
    static const char *const in[] = {"add", "sub", "mul", "udiv", "sdiv", "urem", "srem", "shl", "lshr", "ashr",
                                     "and", "or", "xor", "icmp", NULL};
    static const char *const calls[] = {"call", "invoke", "callbr", NULL};
    /* no machine instruction of their own: a register is renamed, or nothing is emitted (unreachable); a phi
     * is priced one, the copy it becomes on its incoming edges (about one instruction on real code) */
    static const char *const lo_free[] = {"trunc", "bitcast", "ptrtoint", "inttoptr", "freeze", "addrspacecast",
                                          NULL};
    static const char *const lo_zero[] = {"unreachable", NULL};
    /* x86 reads a memory operand in these: a load used once by one of them folds into it */
    static const char *const lo_fold[] = {"add", "sub", "and", "or", "xor", "icmp", "mul", "fadd", "fsub", "fmul",
                                          "fdiv", "fcmp", NULL};
    static const char *const lo_div[] = {"udiv", "sdiv", "urem", "srem", NULL};
    opinfo_t o;
    memset(&o, 0, sizeof o);
    int k = 1;
    for (; k < 256; k++) {
        const char *s = llp_opcode_name(k);
        if (!s) break;
        o.name[k] = s;
        o.len[k] = (int)strlen(s);
        o.llvm[k] = (int16_t)in_list(s, LLVM_OPCODES);
        o.flags[k] = (uint8_t)((in_list(s, term) >= 0 ? OPF_TERM : 0) | (in_list(s, cast) >= 0 ? OPF_CAST : 0)
                               | (in_list(s, calls) >= 0 ? OPF_CALL : 0) | (in_list(s, fp) >= 0 ? OPF_FP : 0)
                               | (in_list(s, in) >= 0 ? OPF_INT : 0));
#define ID(field, text) if (strcmp(s, text) == 0) o.field = k;
        ID(call, "call") ID(invoke, "invoke") ID(callbr, "callbr") ID(phi, "phi") ID(br, "br") ID(sw, "switch")
        ID(load, "load") ID(store, "store") ID(gep, "getelementptr") ID(icmp, "icmp") ID(add, "add")
        ID(sub, "sub") ID(or_, "or") ID(alloca_, "alloca") ID(bitcast, "bitcast") ID(ascast, "addrspacecast")
        ID(trunc, "trunc") ID(zext, "zext") ID(sext, "sext") ID(and_, "and") ID(select, "select") ID(fcmp_, "fcmp")
        ID(ret, "ret")
#undef ID
        o.lo[k] = (uint8_t)((in_list(s, lo_free) >= 0 ? LO_FREE : 0) | (in_list(s, lo_fold) >= 0 ? LO_FOLD : 0)
                            | (in_list(s, lo_div) >= 0 ? LO_DIV : 0) | (in_list(s, lo_zero) >= 0 ? LO_ZERO : 0));
    }
    o.n = k;
    for (int b = 0; b < 32; b++) {
        const char *f = llp_flag_name(b);
        if (!f) break;
        if (strcmp(f, "tail") == 0 || strcmp(f, "musttail") == 0) o.tail_flags |= (int32_t)(1u << b);
    }
    o.name[0] = "";
    o.llvm[0] = -1;
    OPS = o;
}

/* ------------------------------------------------------------------ CRC-32 (zlib.crc32) */
/* The hashed n-grams hash the concatenation of short strings.  CRC registers are affine in their
 * start value, so reg(P, b) = shift_|b|(P) ^ reg(0, b): with reg(0, b) known per token and the
 * shift as four table lookups, a bigram costs no pass over the bytes of the token before it. */
enum { SHIFT_MAX = 32 };
static uint32_t CRC_TABLE[256];
static uint32_t SHIFT[SHIFT_MAX + 1][4][256];   /* SHIFT[L]: the register after L zero bytes */
static int crc_ready;

static uint32_t crc_reg(uint32_t r, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) r = CRC_TABLE[(r ^ (uint8_t)s[i]) & 0xff] ^ (r >> 8);
    return r;
}

static uint32_t crc_shift(uint32_t r, int len) {
    const uint32_t(*t)[256] = SHIFT[len];
    return t[0][r & 0xff] ^ t[1][(r >> 8) & 0xff] ^ t[2][(r >> 16) & 0xff] ^ t[3][r >> 24];
}

/* reg(P, b) for b with reg(0, b) = r0 and length len */
static uint32_t crc_extend(uint32_t P, uint32_t r0, const char *b, int len) {
    return len <= SHIFT_MAX ? crc_shift(P, len) ^ r0 : crc_reg(P, b, (size_t)len);
}

static void init_crc(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        CRC_TABLE[i] = c;
    }
    static const char zeros[SHIFT_MAX] = {0};
    for (int L = 0; L <= SHIFT_MAX; L++)
        for (int k = 0; k < 4; k++)
            for (uint32_t v = 0; v < 256; v++) SHIFT[L][k][v] = crc_reg(v << (8 * k), zeros, (size_t)L);
}

/* ------------------------------------------------------------------ growable buffers */
typedef struct { int32_t *a; size_t n, cap; } ivec;
typedef struct { char *a; size_t n, cap; } cbuf;

static int ivec_push(ivec *v, int32_t x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        int32_t *a = realloc(v->a, cap * sizeof *a);
        if (!a) return -1;
        v->a = a;
        v->cap = cap;
    }
    v->a[v->n++] = x;
    return 0;
}

static int cbuf_add(cbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *a = realloc(b->a, cap);
        if (!a) return -1;
        b->a = a;
        b->cap = cap;
    }
    if (n) memcpy(b->a + b->n, s, n);
    b->n += n;
    b->a[b->n] = 0;
    return 0;
}

/* scratch arrays that live for one module, grown on demand and reused by every function */
static void *grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return *p;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return NULL;
    *p = q;
    *cap = c;
    return q;
}

/* ------------------------------------------------------------------ a bytes -> int map */
typedef struct { const char *p; int len; int val; } hent;
typedef struct { int32_t *slot; size_t cap; hent *e; size_t n, ecap; } hmap;

static uint32_t hbytes(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static int hmap_find(const hmap *m, const char *p, int len) {
    if (!m->cap) return -1;
    size_t mask = m->cap - 1;
    for (size_t h = hbytes(p, (size_t)len) & mask;; h = (h + 1) & mask) {
        int32_t k = m->slot[h];
        if (k < 0) return -1;
        if (m->e[k].len == len && memcmp(m->e[k].p, p, (size_t)len) == 0) return k;
    }
}

/* adds the key unless present (first wins, as dict.setdefault); returns the entry or -1 on OOM */
static int hmap_add(hmap *m, const char *p, int len, int val) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        int32_t *slot = malloc(cap * sizeof *slot);
        if (!slot) return -1;
        memset(slot, 0xff, cap * sizeof *slot);
        for (size_t k = 0; k < m->n; k++) {
            size_t h = hbytes(m->e[k].p, (size_t)m->e[k].len) & (cap - 1);
            while (slot[h] >= 0) h = (h + 1) & (cap - 1);
            slot[h] = (int32_t)k;
        }
        free(m->slot);
        m->slot = slot;
        m->cap = cap;
    }
    int k = hmap_find(m, p, len);
    if (k >= 0) return k;
    if (!grow((void **)&m->e, &m->ecap, m->n + 1, sizeof *m->e)) return -1;
    size_t h = hbytes(p, (size_t)len) & (m->cap - 1);
    while (m->slot[h] >= 0) h = (h + 1) & (m->cap - 1);
    m->e[m->n] = (hent){p, len, val};
    m->slot[h] = (int32_t)m->n;
    return (int)m->n++;
}

static void hmap_free(hmap *m) {
    free(m->slot);
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ the result */
struct llf_result {
    llp_module *p;
    int err;
    int rows;
    double *X;
    int32_t *info;
    cbuf names;
    cbuf names_nul;
};

/* what a function's name says about calls to it (decided once per module) */
enum { NK_LLVM = 1, NK_DEBUG = 2, NK_MEMINTR = 4, NK_SREG = 8, NK_BARRIER = 16, NK_FMA = 32,
       /* AutoUpgrade rewrites a call of these with the argument count noted */
       NK_UP_LIFETIME = 64 /* 2 */, NK_UP_MASKED = 128 /* 4 */, NK_UP_MEM = 256 /* 5 */, NK_UP_ANNOT = 512 /* 4 */,
       NK_UP_CTLZ = 1024 /* 1 */, NK_UP_OBJSIZE = 2048 /* 2 or 3 */, NK_MIN = 4096 /* llvm.smin / llvm.umin */,
       NK_MEMSET = 8192, NK_UP_MASK_AT2 = 16384 /* llvm.masked.store/scatter: the alignment is argument 2 */ };

/* ------------------------------------------------------------------ module context */
/* ssp: the strongest stack-protector attribute (1 ssp, 2 sspstrong, 3 sspreq), 0 without */
typedef struct { double cpu[7], max_threads; int kernel, ssp; uint32_t reason; } attr_result;

/* reg(0, t) of words seen before: most tokens are a few dozen keywords and type names */
enum { WORD_CACHE = 1024 };
/* after: reg(~0, t + " "); proj[L]: the low 6 bits of `after` shifted by L zero bytes, all that a
 * bigram "t u" with |u| = L needs of t (its bucket is ~(proj[|u|] ^ reg(0, u)) & 63) */
typedef struct { uint64_t k0, k1; uint32_t r0, after; int32_t len; uint8_t proj[SHIFT_MAX + 1]; } word_crc;
/* kept from module to module (entries are keyed by the whole word, len 0 matches none): the same
 * keywords and type names come back in every module, and a fresh table cost a 32 KiB clear per call */
static __thread word_crc WORDS[WORD_CACHE];

typedef struct { const int32_t *r; int n, w; } tab;

typedef struct { int64_t start_n, end_n; i128 start_regs, end_regs; } event;   /* what happens at one time */
typedef struct { int header, parent, depth, last; ivec blocks, children; } loop_t;

typedef struct {
    const char *src;
    size_t len;
    tab t[LLP_NTABLES];
    /* per FUNCS row */
    int32_t *fname_off, *fname_len;   /* decoded names in `names` */
    int32_t *frow_of_out;             /* row of the result for a defined function, else -1 */
    uint16_t *fkind;                  /* NK_* of each FUNCS row */
    /* a symbol that may be preempted (not dso_local, nor local or hidden) is reached through the GOT */
    uint8_t *fpre, *gpre;             /* preemptible: per FUNCS row, per GLOBALS row */
    int32_t *fgot, *ggot;             /* lowering(): the last function (row + 1) that counted the symbol */
    int64_t *uses;
    uint32_t *freason;                /* reasons known before the function is walked */
    cbuf names;
    hmap by_name;                     /* decoded name -> FUNCS row (>= 0) or -2 - GLOBALS row */
    hmap named_by_name;               /* named-type name -> NAMED row (the last definition) */
    int32_t *named_body;              /* per NAMED row: body of the last row with its name */
    i128 *tbits;                      /* bits of each type id; -1: more than 128 bits hold */
    const char *ttext;                /* llp_typetext: each type's canonical spelling */
    size_t ttext_len;
    uint8_t *vcls;                    /* PY_* of each value */
    uint32_t module_reason;
    int prog_as;                      /* the data layout's program address space (P<n>), else 0 */
    int prog_as_unknown;              /* ... too large to read */
    int has_shared;
    i128 shared_bytes;
    /* attribute groups: sorted (number, off, len) */
    int32_t *groups;
    int ngroups;
    /* constant dedupe of function_use_counts */
    hmap seen_consts;
    cbuf keybuf;
    /* per-function scratch */
    int32_t *succ_off, *succ, *pred_off, *pred, *npred_tmp, *po, *rpo_pos, *idom, *kids_off, *kids, *pre, *post,
        *level, *loop_for, *block_end, *pos_of, *stack, *stack2, *ulist;
    size_t cap_succ_off, cap_succ, cap_pred_off, cap_pred, cap_npred_tmp, cap_po, cap_rpo_pos, cap_idom, cap_kids_off,
        cap_kids, cap_pre, cap_post, cap_level, cap_loop_for, cap_block_end, cap_pos_of, cap_stack, cap_stack2,
        cap_ulist;
    uint8_t *reach, *seen, *used;
    size_t cap_reach, cap_seen, cap_used;
    double *weight;
    size_t cap_weight;
    double est_machine[3];  /* _machine_ops summed for native widths 128, 256, 512 (picked later) */
    int64_t *vend;
    size_t cap_vend;
    event *ev;
    size_t cap_ev;
    loop_t *loops;
    int nloops;
    size_t cap_loops;
    int32_t *lorder;                  /* loops in irtools' LoopInfo.loops() order */
    size_t cap_lorder;
    int32_t *csite_name, *csite_len;  /* call sites to named non-intrinsics: decoded name */
    double *csite_w;
    size_t ncsite, cap_csite_name, cap_csite_len, cap_csite_w;
    int32_t *csite_start;             /* per result row */
    cbuf attrs;
    cbuf attr_text;                   /* the attribute text attr_last was read from */
    attr_result attr_last;
    int attr_cached;
    word_crc *words;                  /* CRCs of the words of the function texts */
    /* lowering(): uses of each local value, its last user, where its users are (U_*), call positions */
    int32_t *lo_nuse, *lo_user, *lo_calls, *lo_diff, *lo_stack;
    int64_t *lo_slot;                 /* each alloca's byte offset in the frame, in IR order */
    double *lo_bpos;                  /* lowering(): each block's estimated start, in bytes */
    uint8_t *lo_uflag, *lo_kept, *lo_live, *lo_iscall, *lo_fp;
    uint64_t *lo_bits;                /* exact_liveness(): five bitsets per block */
    uint64_t *lo_bhash;               /* dup_blocks(): each block's hash */
    size_t cap_lo_nuse, cap_lo_user, cap_lo_calls, cap_lo_diff, cap_lo_stack, cap_lo_uflag, cap_lo_kept, cap_lo_live,
        cap_lo_iscall, cap_lo_bits, cap_lo_fp, cap_lo_slot, cap_lo_bpos, cap_lo_bhash;
    int lo_alloca;                    /* 1: the function allocas; 2: an array among them */
    int oom;
} ctx;

#define ROWP(c, tb, i) ((c)->t[tb].r + (size_t)(i) * (size_t)(c)->t[tb].w)
#define COL(c, tb, i, k) (ROWP(c, tb, i)[k])

static int valid_row(const ctx *c, int tb, int64_t i) { return i >= 0 && i < c->t[tb].n; }

/* ------------------------------------------------------------------ values and their types */
static int pyclass_of(const ctx *c, int32_t vid) {
    int k = COL(c, LLP_VALUES, vid, V_KIND);
    int i = COL(c, LLP_VALUES, vid, V_INDEX);
    switch (k) {
    case LLP_V_FUNC: return valid_row(c, LLP_FUNCS, i) ? PY_FUNC : PY_NONE;
    case LLP_V_GVAR: return valid_row(c, LLP_GLOBALS, i) ? PY_GVAR : PY_NONE;
    case LLP_V_ALIAS: return valid_row(c, LLP_GLOBALS, i) ? PY_ALIAS : PY_NONE;
    case LLP_V_IFUNC: return valid_row(c, LLP_GLOBALS, i) ? PY_IFUNC : PY_NONE;
    case LLP_V_ARG: return valid_row(c, LLP_ARGS, i) ? PY_ARG : PY_NONE;
    case LLP_V_INST: return valid_row(c, LLP_INSTS, i) ? PY_INST : PY_NONE;
    case LLP_V_BLOCK: return valid_row(c, LLP_BLOCKS, i) ? PY_BLOCK : PY_NONE;
    case LLP_V_CONST:
        if (!valid_row(c, LLP_CONSTS, i)) return PY_NONE;
        k = COL(c, LLP_CONSTS, i, C_KIND);
        return k == LLP_C_METADATA ? PY_MD : k == LLP_C_ASM ? PY_ASM : PY_CONST;
    default: return PY_NONE;
    }
}

/* the class of every value, once per module: it is asked for each operand several times */
static int classify_values(ctx *c) {
    int n = c->t[LLP_VALUES].n;
    c->vcls = malloc((size_t)n + 1);
    if (!c->vcls) return -1;
    for (int v = 0; v < n; v++) c->vcls[v] = (uint8_t)pyclass_of(c, v);
    return 0;
}

static int pyclass(const ctx *c, int32_t vid) {
    return vid >= 0 && vid < c->t[LLP_VALUES].n ? c->vcls[vid] : PY_NONE;
}

static int vindex(const ctx *c, int32_t vid) { return COL(c, LLP_VALUES, vid, V_INDEX); }

static int ckind(const ctx *c, int32_t vid) { return COL(c, LLP_CONSTS, vindex(c, vid), C_KIND); }

static int tvalid(const ctx *c, int32_t t) { return valid_row(c, LLP_TYPES, t); }
static int tkind(const ctx *c, int32_t t) { return tvalid(c, t) ? COL(c, LLP_TYPES, t, T_KIND) : 0; }
static int ta(const ctx *c, int32_t t) { return COL(c, LLP_TYPES, t, T_A); }
static int tb_(const ctx *c, int32_t t) { return COL(c, LLP_TYPES, t, T_B); }

/* the type id of Python's `value.type`; -1 where it is a label, metadata or nothing */
static int32_t obj_type(const ctx *c, int32_t vid) {
    switch (pyclass(c, vid)) {
    case PY_FUNC: return COL(c, LLP_FUNCS, vindex(c, vid), F_TYPE);
    case PY_GVAR: case PY_ALIAS: case PY_IFUNC: return COL(c, LLP_VALUES, vid, V_TYPE);
    case PY_ARG: return COL(c, LLP_ARGS, vindex(c, vid), A_TYPE);
    case PY_INST: return COL(c, LLP_INSTS, vindex(c, vid), I_TYPE);
    case PY_CONST: case PY_ASM: return COL(c, LLP_CONSTS, vindex(c, vid), C_TYPE);
    default: return -1;
    }
}

/* Module.resolve_type: a named type's body, followed through names (64 steps at most) */
static int32_t resolve_named(const ctx *c, int32_t t) {
    for (int k = 0; k < 64 && tkind(c, t) == LLP_T_NAMED; k++) {
        int a = ta(c, t);
        t = valid_row(c, LLP_NAMED, a) ? c->named_body[a] : TY_OPAQUE;
        if (t < 0) return TY_OPAQUE;
    }
    return t;
}

/* irtools.analysis.features._resolve: (type, element type when a vector) */
static int32_t resolve(const ctx *c, int32_t t, int32_t *elem) {
    int k = tkind(c, t);
    if (k == LLP_T_NAMED) t = resolve_named(c, t);
    if (elem) {
        *elem = -1;
        if (tkind(c, t) == LLP_T_VECTOR) {
            *elem = ta(c, t);
            if (k == LLP_T_VECTOR && tkind(c, *elem) == LLP_T_NAMED) *elem = resolve_named(c, *elem);
        }
    }
    return t;
}

static int is_fp_kind(const ctx *c, int32_t t, int fk) { return tkind(c, t) == LLP_T_FP && ta(c, t) == fk; }

/* irtools.analysis.features.type_category, as a column offset from ir.ty.void */
static int type_category(const ctx *c, int32_t t) {
    int32_t e;
    t = resolve(c, t, &e);
    switch (tkind(c, t)) {
    case LLP_T_VOID: return 0;
    case LLP_T_INT: {
        int w = ta(c, t);
        return w == 1 ? 1 : w == 8 ? 2 : w == 16 ? 3 : w == 32 ? 4 : w == 64 ? 5 : w == 128 ? 6 : 7;
    }
    case LLP_T_FP: {
        int f = ta(c, t);
        return f == FK_HALF ? 8 : f == FK_BFLOAT ? 9 : f == FK_FLOAT ? 10 : f == FK_DOUBLE ? 11 : 12;
    }
    case LLP_T_PTR: return 13;
    case LLP_T_VECTOR: {
        int ek = tkind(c, e);
        return ek == LLP_T_INT ? 14 : ek == LLP_T_FP ? 15 : ek == LLP_T_PTR ? 16 : 20;
    }
    case LLP_T_STRUCT: case LLP_T_NAMED: return 17;
    case LLP_T_ARRAY: return 18;
    case LLP_T_TOKEN: return 19;
    default: return 20;
    }
}

/* an array's element count: the TYPES row saturates at 2^31 - 1, the type's text does not */
static i128 array_count(const ctx *c, int32_t t) {
    int32_t n = tb_(c, t);
    if (n < 0x7fffffff) return n;
    int32_t off = COL(c, LLP_TYPES, t, 6), len = COL(c, LLP_TYPES, t, 7);
    if (c->t[LLP_TYPES].w < 8 || off < 0 || len < 2 || (size_t)off + (size_t)len > c->ttext_len) return -1;
    const char *s = c->ttext + off;
    i128 v = 0;
    for (int k = 1; k < len && s[k] >= '0' && s[k] <= '9'; k++) {
        if (v > (I128_MAX - 9) / 10) return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

/* the size in bits of every type: integers their width, floating point its format, pointers 64,
 * vectors and arrays count x element, structs the sum of their fields (no padding); components are
 * interned before the types holding them */
static int compute_bits(ctx *c) {
    int n = c->t[LLP_TYPES].n;
    c->tbits = calloc((size_t)n + 1, sizeof *c->tbits);
    if (!c->tbits) return -1;
    const int32_t *tl = c->t[LLP_TYPELIST].r;
    int ntl = c->t[LLP_TYPELIST].n;
    /* 2^90 bits: the register sums of a function's values (2^31 at most) stay inside 128 bits */
    const i128 big = (i128)1 << 90;
    for (int t = 0; t < n; t++) {
        i128 b = 0;
        int a = ta(c, t);
        switch (tkind(c, t)) {
        case LLP_T_INT: b = a; break;
        case LLP_T_FP:
            b = a == FK_HALF || a == FK_BFLOAT ? 16 : a == FK_FLOAT ? 32 : a == FK_X86_FP80 ? 80
                : a == FK_FP128 ? 128 : 64;
            break;
        case LLP_T_PTR: b = 64; break;
        case LLP_T_VECTOR: case LLP_T_ARRAY: {
            i128 k = tkind(c, t) == LLP_T_ARRAY ? array_count(c, t) : tb_(c, t);
            i128 e = a >= 0 && a < t ? c->tbits[a] : 0;
            if (k < 0 || e < 0 || (e && k > big / e)) b = -1;
            else b = k * e;
            break;
        }
        case LLP_T_STRUCT: {
            int lo = COL(c, LLP_TYPES, t, T_LOFF), ln = COL(c, LLP_TYPES, t, T_LLEN);
            for (int k = 0; k < ln && b >= 0; k++) {
                int e = lo + k < ntl && lo + k >= 0 ? tl[lo + k] : -1;
                i128 eb = e >= 0 && e < t ? c->tbits[e] : 0;
                b = eb < 0 || b + eb > big ? -1 : b + eb;
            }
            break;
        }
        default: break;
        }
        c->tbits[t] = b;
    }
    return 0;
}

/* the bits of a type, 0 for none; sets R_BIGINT (and gives 0) when they do not fit */
static i128 bits(const ctx *c, int32_t t, uint32_t *reason) {
    i128 b = tvalid(c, t) ? c->tbits[t] : 0;
    if (b >= 0) return b;
    *reason |= R_BIGINT;
    return 0;
}

/* _erase(a) == _erase(b): equality with pointee types dropped */
static int erased_equal(const ctx *c, int32_t a, int32_t b, int depth) {
    if (a == b) return 1;
    if (depth > 32 || !tvalid(c, a) || !tvalid(c, b)) return 0;
    int k = tkind(c, a);
    if (k != tkind(c, b)) return 0;
    const int32_t *tl = c->t[LLP_TYPELIST].r;
    int ntl = c->t[LLP_TYPELIST].n;
    switch (k) {
    case LLP_T_PTR: return ta(c, a) == ta(c, b);
    case LLP_T_VECTOR:
        if (COL(c, LLP_TYPES, a, T_C) != COL(c, LLP_TYPES, b, T_C)) return 0;
        /* fall through */
    case LLP_T_ARRAY:
        return tb_(c, a) == tb_(c, b) && erased_equal(c, ta(c, a), ta(c, b), depth + 1);
    case LLP_T_FUNC: case LLP_T_STRUCT: {
        if (tb_(c, a) != tb_(c, b)) return 0;  /* vararg / packed */
        if (k == LLP_T_FUNC && !erased_equal(c, ta(c, a), ta(c, b), depth + 1)) return 0;
        int la = COL(c, LLP_TYPES, a, T_LLEN), lb = COL(c, LLP_TYPES, b, T_LLEN);
        int oa = COL(c, LLP_TYPES, a, T_LOFF), ob = COL(c, LLP_TYPES, b, T_LOFF);
        if (la != lb || oa < 0 || ob < 0 || oa + la > ntl || ob + lb > ntl) return 0;
        for (int i = 0; i < la; i++)
            if (!erased_equal(c, tl[oa + i], tl[ob + i], depth + 1)) return 0;
        return 1;
    }
    default: return 0;   /* interned: equal ids were the only way to be equal */
    }
}

/* ------------------------------------------------------------------ names */
static int hexval(char ch) {
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

static int in_src(const ctx *c, int64_t off, int64_t len) {
    return off >= 0 && len >= 0 && (uint64_t)(off + len) <= c->len;
}

/* irtools.ir.llvm.names.decode_name plus Module._name's rule that a slot number is no name;
 * appends the name to `out`, returns its length or -1 (OOM) */
static int decode_name(ctx *c, cbuf *out, int32_t off, int32_t len) {
    if (off < 0 || !in_src(c, off, len)) return 0;
    const char *s = c->src + off;
    int quoted = off > 0 && c->src[off - 1] == '"';
    int digits = len > 0;
    for (int i = 0; i < len; i++) digits &= s[i] >= '0' && s[i] <= '9';
    if (digits && !quoted) return 0;
    if (!quoted || !memchr(s, '\\', (size_t)len)) return cbuf_add(out, s, (size_t)len) ? -1 : len;
    size_t start = out->n;
    for (int i = 0; i < len; i++) {
        char ch = s[i];
        if (quoted && ch == '\\' && i + 1 < len) {
            if (s[i + 1] == '\\') {
                ch = '\\';
                i++;
            } else if (i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                i += 2;
            }
        }
        if (cbuf_add(out, &ch, 1)) return -1;
    }
    return (int)(out->n - start);
}

static const char *fname(const ctx *c, int f, int *len) {
    *len = c->fname_len[f];
    return c->names.a ? c->names.a + c->fname_off[f] : "";
}

static int starts(const char *s, int n, const char *p) {
    size_t k = strlen(p);
    return (size_t)n >= k && memcmp(s, p, k) == 0;
}

static int equals(const char *s, int n, const char *p) { return (size_t)n == strlen(p) && memcmp(s, p, (size_t)n) == 0; }

static int is_intrinsic(const ctx *c, int f) { return c->fkind[f] & NK_LLVM; }

/* get_function(name): the FUNCS row of the first global or function with this decoded name */
static int function_named(const ctx *c, const char *p, int len) {
    int k = hmap_find(&c->by_name, p, len);
    return k < 0 ? -1 : c->by_name.e[k].val;
}

/* ------------------------------------------------------------------ integer constants */
/* the value of a decimal integer constant (true, false and hex spellings are none): 1 when found;
 * one beyond 128 bits sets R_BIGINT and is none */
static int const_int(const ctx *c, int32_t vid, i128 *out, uint32_t *reason) {
    if (pyclass(c, vid) != PY_CONST || ckind(c, vid) != LLP_C_INT) return 0;
    int i = vindex(c, vid);
    int32_t off = COL(c, LLP_CONSTS, i, C_OFF), end = COL(c, LLP_CONSTS, i, C_END);
    if (end <= off) {  /* an alloca's implied `i32 1` */
        *out = 1;
        return 1;
    }
    if (!in_src(c, off, end - off)) return 0;
    const char *s = c->src + off;
    int n = end - off, k = 0, neg = 0;
    if (k < n && (s[k] == '-' || s[k] == '+')) neg = s[k++] == '-';
    if (k == n) return 0;
    for (int q = k; q < n; q++)
        if (s[q] < '0' || s[q] > '9') return 0;
    u128 v = 0, lim = (u128)I128_MAX + (u128)neg;   /* -2^127 fits, +2^127 does not */
    for (; k < n; k++) {
        if (v > (lim - (u128)(s[k] - '0')) / 10) {
            *reason |= R_BIGINT;
            return 0;
        }
        v = v * 10 + (u128)(s[k] - '0');
    }
    *out = neg ? (i128)(~v + 1) : (i128)v;
    return 1;
}

/* ------------------------------------------------------------------ text helpers */
static int is_w(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'; }
/* str.strip()'s ASCII whitespace (str.split too) */
static int is_ustrip(char ch) { return is_space(ch) || (ch >= 0x1c && ch <= 0x1f); }

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    return memmem(h, hn, n, nn);
}

/* ------------------------------------------------------------------ header tokens (module._HDR_TOKEN) */
typedef struct { int32_t off, len; } span;

static int hdr_class(char ch) { return is_w(ch) || ch == '-' || ch == '.' || ch == '$'; }

/* a quoted string from s[i] == '"'; returns its end or -1 ('\\' before a newline ends the match) */
static int hdr_string(const char *s, int n, int i) {
    for (int k = i + 1; k < n; k++) {
        if (s[k] == '"') return k + 1;
        if (s[k] == '\\') {
            if (k + 1 >= n || s[k + 1] == '\n') return -1;
            k++;
        }
    }
    return -1;
}

static int hdr_tokens(const char *s, int n, span *out, int max) {
    int nt = 0, i = 0;
    while (i < n && nt < max) {
        char ch = s[i];
        if (is_space(ch)) {
            i++;
            continue;
        }
        int end = -1;
        if (ch == '"') {
            end = hdr_string(s, n, i);
            if (end > 0) {
                int k = end;
                while (k < n && is_space(s[k])) k++;
                if (k < n && s[k] == '=') {
                    k++;
                    while (k < n && is_space(s[k])) k++;
                    if (k < n && s[k] == '"') {
                        int e2 = hdr_string(s, n, k);
                        if (e2 > 0) end = e2;
                    }
                }
            }
        } else if (ch == '#' && i + 1 < n && is_digit(s[i + 1])) {
            end = i + 1;
            while (end < n && is_digit(s[end])) end++;
        } else if (hdr_class(ch) || ((ch == '%' || ch == '@' || ch == '!') && i + 1 < n && hdr_class(s[i + 1]))) {
            end = i + 1;
            while (end < n && hdr_class(s[end])) end++;
        }
        if (end < 0) end = i + 1;
        out[nt++] = (span){i, end - i};
        i = end;
    }
    return nt;
}

static int tok_is(const char *s, span t, const char *w) { return equals(s + t.off, t.len, w); }

/* module._CC_WORDS, whole-word */
static int cc_word(const char *s, int n) {
    static const char *const exact[] = {"ccc", "fastcc", "coldcc", "tailcc", "swiftcc", "swifttailcc", "ghccc",
                                        "anyregcc", "hhvmcc", "win64cc", "graalcc", NULL};
    static const char *const prefix[] = {"amdgpu_", "spir_", "aarch64_", "ptx_", "msp430_", "avr_", "riscv_",
                                         "m68k_", NULL};
    for (int i = 0; i < n; i++)
        if (!is_w(s[i])) return 0;
    for (int i = 0; exact[i]; i++)
        if (equals(s, n, exact[i])) return 1;
    for (int i = 0; prefix[i]; i++)
        if (starts(s, n, prefix[i]) && n > (int)strlen(prefix[i])) return 1;
    if (n >= 4 && s[n - 1] == 'c' && s[n - 2] == 'c')
        for (int i = 1; i <= n - 3; i++)
            if (s[i] == '_') return 1;
    return 0;
}

typedef struct {
    int linkage_local;   /* internal or private */
    int ptx_kernel;
} header_info;

/* Function._split_header, linkage, calling_convention and attribute_text in one walk; the
 * attribute text goes to c->attrs */
static int read_header(ctx *c, int f, header_info *hi) {
    hi->linkage_local = 0;
    hi->ptx_kernel = 0;
    c->attrs.n = 0;
    if (cbuf_add(&c->attrs, "", 0)) return -1;
    int32_t off = COL(c, LLP_FUNCS, f, F_OFF), end = COL(c, LLP_FUNCS, f, F_HDREND);
    if (off < 0 || end < off || !in_src(c, off, end - off)) return 0;
    const char *s = c->src + off;
    int n = end - off;
    span stackbuf[256];
    span *tk = n + 1 <= 256 ? stackbuf : malloc(sizeof(span) * (size_t)(n + 1));
    if (!tk) return -1;
    int nt = hdr_tokens(s, n, tk, n + 1);
    int name_at = -1, close_at = -1, depth = 0;
    for (int k = 0; k < nt; k++) {
        if (name_at < 0) {
            if (s[tk[k].off] == '@' && k + 1 < nt && tok_is(s, tk[k + 1], "(")) name_at = k;
            continue;
        }
        if (tok_is(s, tk[k], "(")) depth++;
        else if (tok_is(s, tk[k], ")") && --depth == 0) {
            close_at = k;
            break;
        }
    }
    int nbefore = name_at < 0 || close_at < 0 ? nt : name_at;
    int after0 = name_at < 0 || close_at < 0 ? nt : close_at + 1;
    static const char *const linkages[] = {"private", "internal", "available_externally", "linkonce", "weak",
                                           "common", "appending", "extern_weak", "linkonce_odr", "weak_odr",
                                           "external", NULL};
    for (int k = 1; k < nbefore; k++) {
        char w[32];
        if (tk[k].len < (int)sizeof w) {
            memcpy(w, s + tk[k].off, (size_t)tk[k].len);
            w[tk[k].len] = 0;
            if (in_list(w, linkages) >= 0) {
                hi->linkage_local = strcmp(w, "internal") == 0 || strcmp(w, "private") == 0;
                break;
            }
        }
    }
    for (int k = 1; k < nbefore; k++) {
        if (tok_is(s, tk[k], "cc") && k + 1 < nbefore) break;
        if (cc_word(s + tk[k].off, tk[k].len) && !tok_is(s, tk[k], "unnamed_addr")) {
            hi->ptx_kernel = tok_is(s, tk[k], "ptx_kernel");
            break;
        }
    }
    /* attributes: each item is appended; a `(...)` run joins the item before it */
    static const char *const stop[] = {"section", "comdat", "gc", "prefix", "prologue", "personality",
                                       "partition", NULL};
    int items = 0, rc = 0;
    for (int k = after0; k < nt && !rc;) {
        span w = tk[k];
        char word[16];
        int isstop = 0;
        if (w.len < (int)sizeof word) {
            memcpy(word, s + w.off, (size_t)w.len);
            word[w.len] = 0;
            isstop = in_list(word, stop) >= 0;
        }
        if (isstop || s[w.off] == '!') break;
        if (tok_is(s, w, "(") && items) {
            int d = 0, j = k;
            while (j < nt) {
                d += tok_is(s, tk[j], "(");
                d -= tok_is(s, tk[j], ")");
                j++;
                if (d == 0) break;
            }
            for (int q = k; q < j && !rc; q++)
                for (int z = 0; z < tk[q].len && !rc; z++)
                    rc = s[tk[q].off + z] == ',' ? cbuf_add(&c->attrs, ", ", 2) : cbuf_add(&c->attrs, s + tk[q].off + z, 1);
            k = j;
            continue;
        }
        if (items && cbuf_add(&c->attrs, " ", 1)) rc = -1;
        items++;
        if (tok_is(s, w, "align") && k + 1 < nt) {
            rc = cbuf_add(&c->attrs, "align ", 6) || cbuf_add(&c->attrs, s + tk[k + 1].off, (size_t)tk[k + 1].len);
            k += 2;
            continue;
        }
        if (s[w.off] == '#' && w.len > 1) {
            int all = 1;
            for (int z = 1; z < w.len; z++) all &= is_digit(s[w.off + z]);
            if (all) {
                /* the group's text, or "" for an undefined group */
                int64_t num = 0;
                int big = w.len > 10;
                for (int z = 1; z < w.len && !big; z++) num = num * 10 + (s[w.off + z] - '0');
                int lo = 0, hi2 = c->ngroups - 1, at = -1;
                while (!big && lo <= hi2) {
                    int mid = (lo + hi2) / 2;
                    int64_t g = c->groups[mid * 3];
                    if (g == num) {
                        at = mid;
                        break;
                    }
                    if (g < num) lo = mid + 1;
                    else hi2 = mid - 1;
                }
                if (at >= 0) rc = cbuf_add(&c->attrs, c->src + c->groups[at * 3 + 1], (size_t)c->groups[at * 3 + 2]);
                k++;
                continue;
            }
        }
        rc = cbuf_add(&c->attrs, s + w.off, (size_t)w.len);
        k++;
    }
    if (tk != stackbuf) free(tk);
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------------ attribute groups */
static int cmp_group(const void *a, const void *b) {
    const int32_t *x = a, *y = b;
    /* by number, later definitions after earlier ones (the dict keeps the last) */
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return x[3] < y[3] ? -1 : x[3] > y[3];
}

static int read_groups(ctx *c) {
    int ne = c->t[LLP_ENTITIES].n, n = 0;
    int32_t *g = malloc(sizeof(int32_t) * 4 * ((size_t)ne + 1));
    if (!g) return -1;
    for (int i = 0; i < ne; i++) {
        if (COL(c, LLP_ENTITIES, i, E_KIND) != 3 || COL(c, LLP_ENTITIES, i, E_WHAT) != 5) continue;
        int32_t off = COL(c, LLP_ENTITIES, i, E_OFF), end = COL(c, LLP_ENTITIES, i, E_END);
        if (!in_src(c, off, end - off)) continue;
        const char *s = c->src + off;
        int len = end - off, k = 10;
        /* attributes\s+#(\d+)\s*=\s*\{(.*)\}\s*$ */
        if (len < 10 || memcmp(s, "attributes", 10) != 0) continue;
        if (k >= len || !is_space(s[k])) continue;
        while (k < len && is_space(s[k])) k++;
        if (k >= len || s[k] != '#') continue;
        k++;
        int d0 = k;
        int64_t num = 0;
        while (k < len && is_digit(s[k])) num = num * 10 + (s[k++] - '0');
        if (k == d0 || k - d0 > 9) continue;
        while (k < len && is_space(s[k])) k++;
        if (k >= len || s[k] != '=') continue;
        k++;
        while (k < len && is_space(s[k])) k++;
        if (k >= len || s[k] != '{') continue;
        int open = k, close = len - 1;
        while (close > open && is_space(s[close])) close--;
        if (close <= open || s[close] != '}') continue;
        int a = open + 1, b = close;
        while (a < b && is_ustrip(s[a])) a++;
        while (b > a && is_ustrip(s[b - 1])) b--;
        g[n * 4] = (int32_t)num;
        g[n * 4 + 1] = off + a;
        g[n * 4 + 2] = b - a;
        g[n * 4 + 3] = i;
        n++;
    }
    qsort(g, (size_t)n, sizeof(int32_t) * 4, cmp_group);
    /* keep the last of each number, as (number, off, len) */
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (i + 1 < n && g[(i + 1) * 4] == g[i * 4]) continue;
        g[m * 3] = g[i * 4];
        g[m * 3 + 1] = g[i * 4 + 1];
        g[m * 3 + 2] = g[i * 4 + 2];
        m++;
    }
    c->groups = g;
    c->ngroups = m;
    return 0;
}

/* ------------------------------------------------------------------ constant-expression folding */
/* features._Fold: how LLVM 22's parser-time folder classifies a constant expression */
typedef struct { int cls; int32_t value; int hazard; } fold_t;

static fold_t mkfold(int cls, int hazard) { return (fold_t){cls, -1, hazard}; }

static int const_text(const ctx *c, int32_t vid, const char **s, int *n) {
    int i = vindex(c, vid);
    int32_t off = COL(c, LLP_CONSTS, i, C_OFF), end = COL(c, LLP_CONSTS, i, C_END);
    if (end <= off) {   /* an alloca's implied `i32 1` */
        *s = "1";
        *n = 1;
        return 1;
    }
    if (!in_src(c, off, end - off)) return 0;
    *s = c->src + off;
    *n = end - off;
    return 1;
}

/* features._is_zero */
static int is_zero(const ctx *c, int32_t v) {
    if (pyclass(c, v) != PY_CONST) return 0;
    int k = ckind(c, v);
    if (k != LLP_C_INT && k != LLP_C_ZERO && k != LLP_C_NULL) return 0;
    const char *s;
    int n;
    if (!const_text(c, v, &s, &n)) return 0;
    while (n && is_ustrip(s[0])) s++, n--;
    while (n && is_ustrip(s[n - 1])) n--;
    return equals(s, n, "0") || equals(s, n, "false") || equals(s, n, "zeroinitializer") || equals(s, n, "null")
        || equals(s, n, "-0");
}

static int is_global(int pc) { return pc == PY_FUNC || pc == PY_GVAR || pc == PY_ALIAS || pc == PY_IFUNC; }

static int scalar_class(const ctx *c, int32_t t) {
    int k = tkind(c, t);
    return k == LLP_T_INT ? OC_CINT : k == LLP_T_FP ? OC_CFP : OC_CONST;
}

static int32_t cop(const ctx *c, int32_t vid, int k) {
    return c->t[LLP_OPERANDS].r[COL(c, LLP_CONSTS, vindex(c, vid), C_OPSTART) + k];
}

static int cop_count(const ctx *c, int32_t vid) {
    int i = vindex(c, vid);
    int32_t s = COL(c, LLP_CONSTS, i, C_OPSTART), n = COL(c, LLP_CONSTS, i, C_OPCOUNT);
    return s >= 0 && n >= 0 && s + n <= c->t[LLP_OPERANDS].n ? n : 0;
}

static int32_t ctype(const ctx *c, int32_t vid) { return COL(c, LLP_CONSTS, vindex(c, vid), C_TYPE); }

/* features._pure_data: -1 when a global or other symbol is inside, else whether no pointer (nor, for
 * a scalar result, vector) constant takes part */
static int pure_data(const ctx *c, int32_t root, int depth) {
    int32_t stack[128];
    int sp = 0, no_pointers = 1;
    int scalar_result = tkind(c, ctype(c, root)) != LLP_T_VECTOR;
    stack[sp++] = root;
    while (sp) {
        int32_t x = stack[--sp];
        int pc = pyclass(c, x);
        if (pc != PY_CONST) return -1;
        int k = ckind(c, x);
        if (k == LLP_C_BLOCKADDRESS || k == LLP_C_OTHER || k == LLP_C_NONE) return -1;
        int tk = tkind(c, ctype(c, x));
        if (x != root && (tk == LLP_T_PTR || (scalar_result && tk == LLP_T_VECTOR))) no_pointers = 0;
        if (k == LLP_C_EXPR || k == LLP_C_AGGREGATE) {
            int n = cop_count(c, x);
            if (sp + n > 128 || depth > 64) return -2;
            for (int q = 0; q < n; q++) stack[sp++] = cop(c, x, q);
        }
    }
    return no_pointers;
}

static int program_addrspace_known(const ctx *c) { return !c->prog_as_unknown; }

/* features._value_type(v) compared with a type after erasure */
static int value_type_erased_equal(const ctx *c, int32_t v, int32_t t, int *unsure) {
    int pc = pyclass(c, v);
    if (is_global(pc)) {
        int as = 0;
        if (pc == PY_GVAR) as = COL(c, LLP_GLOBALS, vindex(c, v), G_AS);
        else if (pc == PY_FUNC) {
            as = COL(c, LLP_FUNCS, vindex(c, v), F_AS);
            if (as < 0) {
                if (!program_addrspace_known(c)) *unsure = 1;
                as = c->prog_as;
            }
        }
        return tkind(c, t) == LLP_T_PTR && ta(c, t) == as;
    }
    int32_t vt = resolve(c, obj_type(c, v), NULL);
    return erased_equal(c, vt, t, 0);
}

static fold_t fold_expr(const ctx *c, int32_t v, int depth);

/* features._fold_operand */
static fold_t fold_operand(const ctx *c, int32_t v, int depth) {
    int pc = pyclass(c, v);
    if (is_global(pc)) return (fold_t){OC_GLOBAL, v, 0};
    switch (pc) {
    case PY_INST: return mkfold(OC_INST, 0);
    case PY_ARG: return mkfold(OC_ARG, 0);
    case PY_BLOCK: return mkfold(OC_BLOCK, 0);
    case PY_ASM: return mkfold(OC_ASM, 0);
    case PY_CONST: {
        int k = ckind(c, v);
        if (k == LLP_C_INT || k == LLP_C_ZERO) return mkfold(scalar_class(c, resolve(c, ctype(c, v), NULL)), 0);
        if (k == LLP_C_FP) return mkfold(OC_CFP, 0);
        if (k == LLP_C_EXPR) return fold_expr(c, v, depth + 1);
        return mkfold(OC_CONST, 0);
    }
    default: return mkfold(OC_UNKNOWN, 0);
    }
}

static int word_is(const char *s, int n, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (equals(s, n, list[i])) return 1;
    return 0;
}

static const char *const CAST_WORDS[] = {"trunc", "zext", "sext", "fptoui", "fptosi", "uitofp", "sitofp",
                                         "fptrunc", "fpext", "ptrtoint", "ptrtoaddr", "inttoptr", "bitcast",
                                         "addrspacecast", NULL};

/* Constant.opcode: the first word of the expression's text */
static int expr_opcode(const ctx *c, int32_t v, const char **w) {
    const char *s;
    int n, k = 0;
    if (!const_text(c, v, &s, &n)) return 0;
    while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '_')) k++;
    *w = s;
    return k;
}

static int is_undef(const ctx *c, int32_t v) {
    if (pyclass(c, v) != PY_CONST) return 0;
    int k = ckind(c, v);
    return k == LLP_C_UNDEF || k == LLP_C_POISON;
}

static int same_ref(const ctx *c, int32_t a, int32_t b) {
    if (a == b) return 1;
    if (pyclass(c, a) != PY_CONST || pyclass(c, b) != PY_CONST) return 0;
    const char *s, *t;
    int n, m;
    return const_text(c, a, &s, &n) && const_text(c, b, &t, &m) && n == m && memcmp(s, t, (size_t)n) == 0;
}

/* irtools.analysis.features.fold_constant_expr; hazard 2: too deeply nested to tell (R_CONSTEXPR) */
static fold_t fold_expr(const ctx *c, int32_t v, int depth) {
    if (depth > 32) return mkfold(OC_CONST, 2);
    int n = cop_count(c, v);
    fold_t f0 = mkfold(OC_CONST, 0), f1 = f0;
    int any_hazard = 0, unsure = 0;
    for (int q = 0; q < n; q++) {
        fold_t f = fold_operand(c, cop(c, v, q), depth);
        if (f.hazard == 2) return f;
        any_hazard |= f.hazard;
        if (q == 0) f0 = f;
        if (q == 1) f1 = f;
    }
    if (any_hazard) return mkfold(OC_CONST, 1);
    int32_t ty = ctype(c, v);
    int data = pure_data(c, v, depth);
    if (data == -2) return mkfold(OC_CONST, 2);
    if (data >= 0) {
        int32_t rt = resolve(c, ty, NULL);
        if (tkind(c, rt) == LLP_T_PTR) return mkfold(OC_CONST, 0);
        return mkfold(scalar_class(c, rt), !data);
    }
    const char *w;
    int wl = expr_opcode(c, v, &w);
    if (word_is(w, wl, CAST_WORDS)) {
        if (!n) return mkfold(OC_CONST, 1);
        int32_t src = cop(c, v, 0);
        if (equals(w, wl, "bitcast") && value_type_erased_equal(c, src, ty, &unsure))
            return unsure ? mkfold(OC_CONST, 2) : f0;
        if (unsure) return mkfold(OC_CONST, 2);
        if (!equals(w, wl, "addrspacecast") && is_zero(c, src)) return mkfold(scalar_class(c, resolve(c, ty, NULL)), 0);
        if (f0.cls == OC_CINT || f0.cls == OC_CFP || is_zero(c, src)) {
            int tk = tkind(c, ty);
            return mkfold(scalar_class(c, ty), !(tk == LLP_T_INT || tk == LLP_T_FP));
        }
        if (pyclass(c, src) == PY_CONST) {
            int k = ckind(c, src);
            if (k == LLP_C_UNDEF || k == LLP_C_POISON) return mkfold(OC_CONST, 1);
            if (k == LLP_C_EXPR) {
                const char *w2;
                int wl2 = expr_opcode(c, src, &w2);
                return mkfold(OC_CONST, word_is(w2, wl2, CAST_WORDS));
            }
        }
        return mkfold(OC_CONST, 0);
    }
    if (equals(w, wl, "getelementptr")) {
        if (n < 1 || tkind(c, ty) == LLP_T_VECTOR) return mkfold(OC_CONST, 1);
        int all_zero = 1;
        for (int q = 1; q < n; q++) {
            if (is_undef(c, cop(c, v, q))) return mkfold(OC_CONST, 1);
            all_zero &= is_zero(c, cop(c, v, q));
        }
        if (all_zero) return f0.cls != OC_CONST || is_zero(c, cop(c, v, 0)) ? f0 : mkfold(OC_CONST, 1);
        return mkfold(OC_CONST, 0);
    }
    if (equals(w, wl, "add") || equals(w, wl, "sub") || equals(w, wl, "xor")) {
        int simple = 1;
        for (int q = 0; q < n; q++) {
            int32_t o = cop(c, v, q);
            if (is_undef(c, o)) return mkfold(OC_CONST, 1);
        }
        for (int q = 0; q < n; q++) {
            fold_t f = fold_operand(c, cop(c, v, q), depth);
            simple &= f.cls == OC_CINT || f.cls == OC_CFP || is_zero(c, cop(c, v, q));
        }
        if (simple) return mkfold(scalar_class(c, resolve(c, ty, NULL)), 0);
        if (n == 2 && is_zero(c, cop(c, v, 1))) return f0;
        if (n == 2 && equals(w, wl, "add") && is_zero(c, cop(c, v, 0))) return f1;
        if (n == 2 && !equals(w, wl, "add") && same_ref(c, cop(c, v, 0), cop(c, v, 1)))
            return mkfold(scalar_class(c, resolve(c, ty, NULL)), 0);
        return mkfold(OC_CONST, 0);
    }
    return mkfold(OC_CONST, 1);
}

/* ------------------------------------------------------------------ function_use_counts */
/* functions inside a constant expression: their count depends on LLVM's folding */
static void taint_tree(ctx *c, int32_t vid, int depth) {
    int pc = pyclass(c, vid);
    if (pc == PY_FUNC) {
        c->freason[vindex(c, vid)] |= R_USES;
        return;
    }
    if (pc != PY_CONST && pc != PY_MD) return;
    if (depth > 64) {
        c->module_reason |= R_USES;
        return;
    }
    int i = vindex(c, vid);
    int32_t s = COL(c, LLP_CONSTS, i, C_OPSTART), n = COL(c, LLP_CONSTS, i, C_OPCOUNT);
    if (s < 0 || n < 0 || s + n > c->t[LLP_OPERANDS].n) return;
    for (int k = 0; k < n; k++) taint_tree(c, c->t[LLP_OPERANDS].r[s + k], depth + 1);
}

/* the dedupe key of a constant: its type and its text with whitespace runs made one space */
static int const_key(ctx *c, int i) {
    c->keybuf.n = 0;
    int32_t ty = COL(c, LLP_CONSTS, i, C_TYPE);
    if (cbuf_add(&c->keybuf, (const char *)&ty, sizeof ty)) return -1;
    int32_t off = COL(c, LLP_CONSTS, i, C_OFF), end = COL(c, LLP_CONSTS, i, C_END);
    if (end <= off) return cbuf_add(&c->keybuf, "1", 1);
    if (!in_src(c, off, end - off)) return 0;
    if (cbuf_add(&c->keybuf, c->src + off, (size_t)(end - off))) return -1;
    /* squeeze whitespace runs in place (the text is at least as long as its squeezed form) */
    char *k = c->keybuf.a + sizeof ty, *w = k;
    int gap = 0, any = 0;
    for (int32_t q = 0; q < end - off; q++) {
        char ch = k[q];
        if (is_ustrip(ch)) {
            gap = 1;
            continue;
        }
        if (gap && any) *w++ = ' ';
        gap = 0;
        any = 1;
        *w++ = ch;
    }
    c->keybuf.n = (size_t)(w - c->keybuf.a);
    return 0;
}

static void use_value(ctx *c, int32_t vid, int depth);

static void visit_constant(ctx *c, int32_t vid, int depth) {
    int i = vindex(c, vid);
    int32_t s = COL(c, LLP_CONSTS, i, C_OPSTART), n = COL(c, LLP_CONSTS, i, C_OPCOUNT);
    if (n <= 0) return;   /* nothing inside to count: the key would change nothing */
    if (depth > 64) {
        c->module_reason |= R_USES;
        return;
    }
    if (const_key(c, i)) {
        c->oom = 1;
        return;
    }
    if (hmap_find(&c->seen_consts, c->keybuf.a, (int)c->keybuf.n) >= 0) return;
    char *key = malloc(c->keybuf.n ? c->keybuf.n : 1);   /* owned by the map */
    if (key) memcpy(key, c->keybuf.a, c->keybuf.n);
    if (!key || hmap_add(&c->seen_consts, key, (int)c->keybuf.n, 0) < 0) {
        free(key);
        c->oom = 1;
        return;
    }
    if (COL(c, LLP_CONSTS, i, C_KIND) == LLP_C_BLOCKADDRESS) return;
    if (s < 0 || s + n > c->t[LLP_OPERANDS].n) return;
    for (int q = 0; q < n; q++) use_value(c, c->t[LLP_OPERANDS].r[s + q], depth + 1);
}

static void use_value(ctx *c, int32_t vid, int depth) {
    int pc = pyclass(c, vid);
    if (pc == PY_FUNC) {
        c->uses[vindex(c, vid)]++;
    } else if (pc == PY_CONST) {
        if (ckind(c, vid) == LLP_C_EXPR) {
            /* a constant that folds to a global is that global, used directly by its user */
            fold_t f = fold_expr(c, vid, 0);
            if (f.hazard == 2) taint_tree(c, vid, depth);
            else if (f.value >= 0) use_value(c, f.value, depth + 1);
            else visit_constant(c, vid, depth);
        } else {
            visit_constant(c, vid, depth);
        }
    }
}

/* @name references (features._GLOBAL_REF) in s[0..n), each counted when it names a function */
static void count_text_refs(ctx *c, const char *s, int n, int first_only) {
    for (int i = 0; i < n; i++) {
        if (s[i] != '@') continue;
        const char *p = NULL;
        int len = 0, next = i + 1;
        if (i + 1 < n && s[i + 1] == '"') {
            int k = i + 2;
            while (k < n && s[k] != '"') k += s[k] == '\\' ? 2 : 1;
            if (k >= n) continue;
            p = s + i + 2;
            len = k - (i + 2);
            next = k + 1;
            if (len == 0) continue;   /* @"" names no function: unnamed ones are referred to as @N */
        } else {
            int k = i + 1;
            while (k < n && (is_w(s[k]) || s[k] == '-' || s[k] == '$' || s[k] == '.')) k++;
            if (k == i + 1) continue;
            p = s + i + 1;
            len = k - (i + 1);
            next = k;
        }
        int f = function_named(c, p, len);
        if (f >= 0) c->uses[f]++;
        if (first_only) return;
        i = next - 1;
    }
}

/* _header_function_refs: personality / prefix / prologue name functions in a definition's header */
static int header_refs(ctx *c, int f) {
    int32_t off = COL(c, LLP_FUNCS, f, F_OFF), end = COL(c, LLP_FUNCS, f, F_HDREND);
    if (off < 0 || end < off || !in_src(c, off, end - off)) return 0;
    const char *t = c->src + off;
    size_t n = (size_t)(end - off);
    if (!memmem(t, n, "personality", 11) && !memmem(t, n, "prefix", 6) && !memmem(t, n, "prologue", 8)) return 0;
    /* comments out first, as _COMMENT.sub does */
    cbuf h = {0};
    for (int32_t k = off; k < end; k++) {
        if (c->src[k] == ';') {
            while (k < end && c->src[k] != '\n') k++;
            if (k >= end) break;
        }
        if (cbuf_add(&h, c->src + k, 1)) {
            free(h.a);
            return -1;
        }
    }
    static const char *const kw[] = {"personality", "prefix", "prologue"};
    for (size_t i = 0; i < h.n; i++) {
        if (i > 0 && is_w(h.a[i - 1])) continue;
        for (int q = 0; q < 3; q++) {
            size_t L = strlen(kw[q]);
            if (i + L <= h.n && memcmp(h.a + i, kw[q], L) == 0 && (i + L == h.n || !is_w(h.a[i + L]))) {
                count_text_refs(c, h.a + i + L, (int)(h.n - i - L), 1);
                break;
            }
        }
    }
    free(h.a);
    return 0;
}

static int is_debug_call(const ctx *c, int inst);

static int function_uses(ctx *c) {
    const int32_t *ops = c->t[LLP_OPERANDS].r;
    int nops_all = c->t[LLP_OPERANDS].n;
    int nf = c->t[LLP_FUNCS].n;
    for (int f = 0; f < nf; f++) {
        if (COL(c, LLP_FUNCS, f, F_DECL)) continue;
        int b0 = COL(c, LLP_FUNCS, f, F_BSTART), nb = COL(c, LLP_FUNCS, f, F_BCOUNT);
        for (int b = b0; b < b0 + nb && valid_row(c, LLP_BLOCKS, b); b++) {
            int i0 = COL(c, LLP_BLOCKS, b, B_ISTART), ni = COL(c, LLP_BLOCKS, b, B_ICOUNT);
            for (int i = i0; i < i0 + ni && valid_row(c, LLP_INSTS, i); i++) {
                if (is_debug_call(c, i)) continue;
                int s = COL(c, LLP_INSTS, i, I_OPSTART), n = COL(c, LLP_INSTS, i, I_NOPS);
                if (s < 0 || n < 0 || s + n > nops_all) continue;
                for (int k = 0; k < n; k++) use_value(c, ops[s + k], 0);
            }
        }
        if (header_refs(c, f)) return -1;
    }
    int ng = c->t[LLP_GLOBALS].n;
    for (int kind = 1; kind <= 3; kind++)
        for (int g = 0; g < ng; g++) {
            if (COL(c, LLP_GLOBALS, g, G_KIND) != kind) continue;
            int32_t init = COL(c, LLP_GLOBALS, g, G_INIT);
            if (init < 0 || pyclass(c, init) == PY_NONE) {
                /* an initializer, aliasee or resolver the tables leave unresolved (some forward
                 * references): the @names in the text after '=' of the definition */
                int32_t off = COL(c, LLP_GLOBALS, g, G_OFF), end = COL(c, LLP_GLOBALS, g, G_END);
                if (!in_src(c, off, end - off)) continue;
                const char *s = c->src + off;
                int n = end - off, eq = 0;
                while (eq < n && s[eq] != '=') eq++;
                eq = eq < n ? eq + 1 : 0;
                count_text_refs(c, s + eq, n - eq, 0);
                continue;
            }
            use_value(c, init, 0);
        }
    return c->oom ? -1 : 0;
}

/* ------------------------------------------------------------------ instructions */
static int iop(const ctx *c, int i) {
    int op = COL(c, LLP_INSTS, i, I_OP);
    return op > 0 && op < OPS.n ? op : 0;
}

/* operand k of instruction i (k < ntotal) */
static int32_t iopnd(const ctx *c, int i, int k) { return c->t[LLP_OPERANDS].r[COL(c, LLP_INSTS, i, I_OPSTART) + k]; }

static int inst_ok(const ctx *c, int i) {
    int s = COL(c, LLP_INSTS, i, I_OPSTART), n = COL(c, LLP_INSTS, i, I_NOPS), nt = COL(c, LLP_INSTS, i, I_NTOTAL);
    int na = COL(c, LLP_INSTS, i, I_NARGS);
    return s >= 0 && n >= 0 && nt >= n && s + nt <= c->t[LLP_OPERANDS].n && (na <= n || !(OPS.flags[iop(c, i)] & OPF_CALL));
}

/* Instruction.callee: the last of all the operands of a call */
static int32_t callee_of(const ctx *c, int i) {
    int nt = COL(c, LLP_INSTS, i, I_NTOTAL);
    return nt > 0 ? iopnd(c, i, nt - 1) : -1;
}

/* the FUNCS row of a Function callee, else -1 */
static int callee_func(const ctx *c, int i) {
    int32_t v = callee_of(c, i);
    return pyclass(c, v) == PY_FUNC ? vindex(c, v) : -1;
}

static int is_debug_call(const ctx *c, int i) {
    if (iop(c, i) != OPS.call || !inst_ok(c, i)) return 0;
    int f = callee_func(c, i);
    return f >= 0 && (c->fkind[f] & NK_DEBUG);
}

/* features.called_function: the callee when it is a Function of the call's type, else -1 */
static int called_function(const ctx *c, int i, uint32_t *reason) {
    int32_t v = callee_of(c, i);
    int pc = pyclass(c, v);
    if (pc == PY_CONST && ckind(c, v) == LLP_C_EXPR) {   /* old IR calls through a no-op bitcast */
        fold_t f = fold_expr(c, v, 0);
        if (f.hazard == 2) *reason |= R_CONSTEXPR;
        v = f.value;
        pc = pyclass(c, v);
    }
    if (pc != PY_FUNC) return -1;
    int f = vindex(c, v);
    int32_t fty = COL(c, LLP_INSTS, i, I_KEY);
    if (fty < 0) {
        *reason |= R_SHAPE;
        return -1;
    }
    return erased_equal(c, fty, COL(c, LLP_FUNCS, f, F_TYPE), 0) ? f : -1;
}

/* the opcode word of a constant expression (Constant.opcode reads the text) */
static int cexpr_word(const ctx *c, int32_t v, const char **s, int *n) {
    int i = vindex(c, v);
    int32_t off = COL(c, LLP_CONSTS, i, C_OFF), end = COL(c, LLP_CONSTS, i, C_END);
    if (!in_src(c, off, end - off)) return 0;
    *n = 0;
    while (off + *n < end && ((c->src[off + *n] >= 'a' && c->src[off + *n] <= 'z') || c->src[off + *n] == '_')) (*n)++;
    *s = c->src + off;
    return 1;
}

/* features._strip_pointer_casts: bitcast, addrspacecast and all-zero GEPs, instructions or constants */
static int32_t strip_pointer_casts(const ctx *c, int32_t v) {
    for (int step = 0; step < 64; step++) {
        int pc = pyclass(c, v), gep = 0, n;
        if (pc == PY_INST) {
            int i = vindex(c, v), op = iop(c, i);
            if (!inst_ok(c, i) || COL(c, LLP_INSTS, i, I_NOPS) <= 0) return v;
            if (op == OPS.gep) gep = 1;
            else if (op != OPS.bitcast && op != OPS.ascast) return v;
            n = COL(c, LLP_INSTS, i, I_NOPS);
            for (int k = 1; gep && k < n; k++)
                if (!is_zero(c, iopnd(c, i, k))) return v;
            v = iopnd(c, i, 0);
        } else if (pc == PY_CONST && ckind(c, v) == LLP_C_EXPR) {
            const char *s;
            int w;
            int i = vindex(c, v);
            int32_t st = COL(c, LLP_CONSTS, i, C_OPSTART);
            n = COL(c, LLP_CONSTS, i, C_OPCOUNT);
            if (!cexpr_word(c, v, &s, &w) || n <= 0 || st < 0 || st + n > c->t[LLP_OPERANDS].n) return v;
            if (equals(s, w, "getelementptr")) gep = 1;
            else if (!equals(s, w, "bitcast") && !equals(s, w, "addrspacecast")) return v;
            for (int k = 1; gep && k < n; k++)
                if (!is_zero(c, cop(c, v, k))) return v;
            v = cop(c, v, 0);
        } else {
            return v;
        }
    }
    return v;
}

/* features.counted_operands as a change to the call's operands: what LLVM 22's reader (AutoUpgrade)
 * makes of old intrinsic calls */
typedef struct {
    int drop;      /* not an instruction for LLVM: a debug intrinsic, or a lifetime marker it deletes */
    int skip;      /* the operand (an argument) the upgrade removes, -1 none */
    int add_cint;  /* i1 false arguments it adds */
    int add_null;  /* ptr null arguments it adds */
} upgrade_t;

static upgrade_t upgrade_of(const ctx *c, int i) {
    upgrade_t u = {0, -1, 0, 0};
    if (is_debug_call(c, i)) {
        u.drop = 1;
        return u;
    }
    int n = iop(c, i) == OPS.call ? COL(c, LLP_INSTS, i, I_NOPS) : 0;
    if (n <= 0) return u;
    int32_t last = iopnd(c, i, n - 1);
    if (pyclass(c, last) != PY_FUNC) return u;
    int k = c->fkind[vindex(c, last)], na = COL(c, LLP_INSTS, i, I_NARGS);
    if ((k & NK_UP_LIFETIME) && na == 2) {
        int32_t p = strip_pointer_casts(c, iopnd(c, i, 1));
        if (!(pyclass(c, p) == PY_INST && iop(c, vindex(c, p)) == OPS.alloca_)) u.drop = 1;
        u.skip = 0;
    } else if ((k & NK_UP_MASKED) && na == 4) {
        u.skip = (k & NK_UP_MASK_AT2) ? 2 : 1;
    } else if ((k & NK_UP_MEM) && na == 5) {
        u.skip = 3;
    } else if ((k & NK_UP_ANNOT) && na == 4) {
        u.add_null = 1;
    } else if ((k & NK_UP_CTLZ) && na == 1) {
        u.add_cint = 1;
    } else if ((k & NK_UP_OBJSIZE) && (na == 2 || na == 3)) {
        u.add_cint = 4 - na;
    }
    return u;
}

/* features._fold_operand(v).cls for everything but constant expressions (R_CONSTEXPR) */
static int operand_class(const ctx *c, int32_t v, uint32_t *reason) {
    switch (pyclass(c, v)) {
    case PY_FUNC: case PY_GVAR: case PY_ALIAS: case PY_IFUNC: return OC_GLOBAL;
    case PY_INST: return OC_INST;
    case PY_ARG: return OC_ARG;
    case PY_BLOCK: return OC_BLOCK;
    case PY_ASM: return OC_ASM;
    case PY_CONST: {
        int k = ckind(c, v);
        if (k == LLP_C_INT || k == LLP_C_ZERO) {
            int32_t t = resolve(c, COL(c, LLP_CONSTS, vindex(c, v), C_TYPE), NULL);
            int tk = tkind(c, t);
            return tk == LLP_T_INT ? OC_CINT : tk == LLP_T_FP ? OC_CFP : OC_CONST;
        }
        if (k == LLP_C_FP) return OC_CFP;
        if (k == LLP_C_EXPR) {
            fold_t f = fold_expr(c, v, 0);
            if (f.hazard == 2) *reason |= R_CONSTEXPR;
            return f.cls;
        }
        return OC_CONST;
    }
    default: return OC_UNKNOWN;
    }
}

/* the opcode of an instruction or constant expression (Constant.opcode reads the text) */
static int is_ptr_step(const ctx *c, int32_t v) {
    int pc = pyclass(c, v);
    if (pc == PY_INST) {
        int op = iop(c, vindex(c, v));
        return op == OPS.gep || op == OPS.ascast || op == OPS.bitcast;
    }
    const char *s;
    int n;
    if (pc == PY_CONST && ckind(c, v) == LLP_C_EXPR && cexpr_word(c, v, &s, &n))
        return equals(s, n, "getelementptr") || equals(s, n, "addrspacecast") || equals(s, n, "bitcast");
    return 0;
}

static int32_t first_operand(const ctx *c, int32_t v) {
    int i = vindex(c, v);
    if (pyclass(c, v) == PY_INST) return COL(c, LLP_INSTS, i, I_NOPS) > 0 && inst_ok(c, i) ? iopnd(c, i, 0) : -1;
    int32_t s = COL(c, LLP_CONSTS, i, C_OPSTART), n = COL(c, LLP_CONSTS, i, C_OPCOUNT);
    return n > 0 && s >= 0 && s < c->t[LLP_OPERANDS].n ? c->t[LLP_OPERANDS].r[s] : -1;
}

/* _is_shared: the pointer comes from an addrspace(3) global */
static int is_shared(const ctx *c, int32_t base) {
    if (!c->has_shared) return 0;
    for (int k = 0; k < 8; k++) {
        int pc = pyclass(c, base);
        if (pc == PY_GVAR) return COL(c, LLP_GLOBALS, vindex(c, base), G_AS) == 3;
        if (!is_ptr_step(c, base)) return 0;
        base = first_operand(c, base);
        if (base < 0) return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ CFG, dominators, loops */
typedef struct {
    int f, b0, nb;        /* FUNCS row, first BLOCKS row, block count */
    int i0, ni;           /* first INSTS row, instruction count (contiguous) */
    int a0, na;
} fn_t;

#define NEED(field, n) \
    if (!grow((void **)&c->field, &c->cap_##field, (size_t)(n) + 1, sizeof *c->field)) return -1

static int local_block(const ctx *c, const fn_t *fn, int32_t vid) {
    if (pyclass(c, vid) != PY_BLOCK) return -1;
    int b = vindex(c, vid) - fn->b0;
    return b >= 0 && b < fn->nb ? b : -1;
}

/* successors (Block.successors) and predecessors with multiplicity, as CSR arrays */
static int build_cfg(ctx *c, const fn_t *fn, uint32_t *reason) {
    int nb = fn->nb;
    NEED(succ_off, nb + 1);
    NEED(pred_off, nb + 1);
    NEED(npred_tmp, nb + 1);
    c->succ_off[0] = 0;
    size_t ns = 0;
    for (int b = 0; b < nb; b++) {
        int row = fn->b0 + b;
        int ni = COL(c, LLP_BLOCKS, row, B_ICOUNT);
        int last = COL(c, LLP_BLOCKS, row, B_ISTART) + ni - 1;
        if (ni > 0 && (OPS.flags[iop(c, last)] & OPF_TERM)) {
            int n = COL(c, LLP_INSTS, last, I_NOPS);
            size_t first = ns;
            for (int k = 0; k < n; k++) {
                int32_t v = iopnd(c, last, k);
                if (pyclass(c, v) != PY_BLOCK) continue;
                int s = local_block(c, fn, v);
                if (s < 0) {
                    *reason |= R_SHAPE;
                    continue;
                }
                NEED(succ, ns + 1);
                c->succ[ns++] = s;
            }
            if (iop(c, last) == OPS.br && ns - first == 2) {
                int32_t t = c->succ[first];
                c->succ[first] = c->succ[first + 1];
                c->succ[first + 1] = t;
            }
        }
        c->succ_off[b + 1] = (int32_t)ns;
    }
    NEED(pred, ns + 1);
    memset(c->npred_tmp, 0, sizeof(int32_t) * (size_t)(nb + 1));
    for (size_t e = 0; e < ns; e++) c->npred_tmp[c->succ[e]]++;
    c->pred_off[0] = 0;
    for (int b = 0; b < nb; b++) c->pred_off[b + 1] = c->pred_off[b] + c->npred_tmp[b];
    memcpy(c->npred_tmp, c->pred_off, sizeof(int32_t) * (size_t)nb);
    for (int b = 0; b < nb; b++)
        for (int e = c->succ_off[b]; e < c->succ_off[b + 1]; e++) c->pred[c->npred_tmp[c->succ[e]]++] = b;
    return 0;
}

/* An iterative depth-first walk from node 0 over a graph in CSR form (the children of n are
 * adj[off[n] .. off[n + 1])), its stack 2 * nodes + 2 int32 (a node and its next edge per level).
 * dfs_next gives the events in order: 1, an edge from *node to *to (the caller descends with dfs_push,
 * or does not); 0, *node is finished (all its edges given); -1, the walk is over. */
typedef struct {
    int32_t *st;
    int sp;
    const int32_t *off, *adj;
} dfs_t;

static void dfs_push(dfs_t *w, int n) {
    w->st[2 * w->sp] = n;
    w->st[2 * w->sp + 1] = w->off[n];
    w->sp++;
}

static void dfs_begin(dfs_t *w, int32_t *stack, const int32_t *off, const int32_t *adj) {
    w->st = stack;
    w->sp = 0;
    w->off = off;
    w->adj = adj;
    dfs_push(w, 0);
}

static int dfs_next(dfs_t *w, int *node, int *to) {
    if (!w->sp) return -1;
    int32_t *top = w->st + 2 * (w->sp - 1);
    *node = top[0];
    if (top[1] < w->off[top[0] + 1]) {
        *to = w->adj[top[1]++];
        return 1;
    }
    w->sp--;
    return 0;
}

/* cfg.postorder: a recursive DFS from the entry, successors in list order; also `reachable` */
static int dfs_postorder(ctx *c, int nb, int *npo) {
    NEED(po, nb);
    NEED(reach, nb);
    NEED(stack, 2 * nb + 2);
    memset(c->reach, 0, (size_t)nb);
    *npo = 0;
    if (nb == 0) return 0;
    c->reach[0] = 1;
    dfs_t w;
    dfs_begin(&w, c->stack, c->succ_off, c->succ);
    int ev, node, ch;
    while ((ev = dfs_next(&w, &node, &ch)) >= 0) {
        if (!ev) c->po[(*npo)++] = node;
        else if (!c->reach[ch]) {
            c->reach[ch] = 1;
            dfs_push(&w, ch);
        }
    }
    return 0;
}

/* immediate dominators (Cooper-Harvey-Kennedy: the fixpoint is unique, so the visiting order of
 * predecessors does not matter), then the tree's DFS numbers and levels with children in block order */
static int dominators(ctx *c, int nb, int npo) {
    NEED(rpo_pos, nb);
    NEED(idom, nb);
    for (int b = 0; b < nb; b++) {
        c->rpo_pos[b] = -1;
        c->idom[b] = -1;
    }
    for (int k = 0; k < npo; k++) c->rpo_pos[c->po[npo - 1 - k]] = k;
    if (nb == 0) return 0;
    c->idom[0] = 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int k = npo - 2; k >= 0; k--) {
            int b = c->po[k];
            int nw = -1;
            for (int e = c->pred_off[b]; e < c->pred_off[b + 1]; e++) {
                int p = c->pred[e];
                if (c->rpo_pos[p] < 0 || c->idom[p] < 0) continue;
                if (nw < 0) {
                    nw = p;
                    continue;
                }
                int x = p, y = nw;
                while (x != y) {
                    while (c->rpo_pos[x] > c->rpo_pos[y]) x = c->idom[x];
                    while (c->rpo_pos[y] > c->rpo_pos[x]) y = c->idom[y];
                }
                nw = x;
            }
            if (nw != c->idom[b]) {
                c->idom[b] = nw;
                changed = 1;
            }
        }
    }
    /* children lists in block order */
    NEED(kids_off, nb + 1);
    NEED(kids, nb);
    NEED(npred_tmp, nb + 1);
    memset(c->npred_tmp, 0, sizeof(int32_t) * (size_t)(nb + 1));
    for (int b = 1; b < nb; b++)
        if (c->idom[b] >= 0) c->npred_tmp[c->idom[b]]++;
    c->kids_off[0] = 0;
    for (int b = 0; b < nb; b++) c->kids_off[b + 1] = c->kids_off[b] + c->npred_tmp[b];
    memcpy(c->npred_tmp, c->kids_off, sizeof(int32_t) * (size_t)nb);
    for (int b = 1; b < nb; b++)
        if (c->idom[b] >= 0) c->kids[c->npred_tmp[c->idom[b]]++] = b;
    NEED(pre, nb);
    NEED(post, nb);
    NEED(level, nb);
    NEED(stack, 2 * nb + 2);
    for (int b = 0; b < nb; b++) c->pre[b] = c->post[b] = c->level[b] = -1;
    int clock = 0;
    c->level[0] = 0;
    c->pre[0] = clock++;
    dfs_t w;
    dfs_begin(&w, c->stack, c->kids_off, c->kids);
    int ev, node, ch;
    while ((ev = dfs_next(&w, &node, &ch)) >= 0) {
        if (!ev) {
            c->post[node] = clock++;
            continue;
        }
        c->level[ch] = c->level[node] + 1;
        c->pre[ch] = clock++;
        dfs_push(&w, ch);
    }
    return 0;
}

static int dominates(const ctx *c, int a, int b) {
    if (a == b || c->pre[b] < 0) return 1;
    if (c->pre[a] < 0) return 0;
    return c->pre[a] <= c->pre[b] && c->post[b] <= c->post[a];
}

static int outermost(const ctx *c, int l) {
    while (c->loops[l].parent >= 0) l = c->loops[l].parent;
    return l;
}

/* block b is in loop l (loop.block_set) */
static int in_loop(const ctx *c, int b, int l) {
    for (int x = b >= 0 ? c->loop_for[b] : -1; x >= 0; x = c->loops[x].parent)
        if (x == l) return 1;
    return 0;
}

static void free_loops(ctx *c) {
    for (int l = 0; l < c->nloops; l++) {
        free(c->loops[l].blocks.a);
        free(c->loops[l].children.a);
    }
    c->nloops = 0;
}

/* loops.LoopInfo._analyze, step for step (the block and child orders are LLVM's) */
static int find_loops(ctx *c, int nb, int npo) {
    free_loops(c);
    NEED(loop_for, nb);
    NEED(stack2, nb);
    for (int b = 0; b < nb; b++) c->loop_for[b] = -1;
    /* the dominator tree's post-order: blocks sorted by post number */
    int nr = 0;
    NEED(ulist, 2 * nb + 2);
    memset(c->ulist, 0, sizeof(int32_t) * (size_t)(2 * nb + 2));
    for (int b = 0; b < nb; b++)
        if (c->post[b] >= 0 && c->post[b] < 2 * nb + 2) c->ulist[c->post[b]] = b + 1;
    for (int k = 0; k < 2 * nb + 2; k++)
        if (c->ulist[k]) c->stack2[nr++] = c->ulist[k] - 1;
    ivec work = {0};
    for (int h = 0; h < nr; h++) {
        int header = c->stack2[h];
        work.n = 0;
        for (int e = c->pred_off[header]; e < c->pred_off[header + 1]; e++) {
            int p = c->pred[e];
            if (c->pre[p] >= 0 && dominates(c, header, p) && ivec_push(&work, p)) goto oom;
        }
        if (!work.n) continue;
        if (!grow((void **)&c->loops, &c->cap_loops, (size_t)c->nloops + 1, sizeof *c->loops)) goto oom;
        int L = c->nloops++;
        memset(&c->loops[L], 0, sizeof c->loops[L]);
        c->loops[L].header = header;
        c->loops[L].parent = -1;
        if (ivec_push(&c->loops[L].blocks, header)) goto oom;
        while (work.n) {
            int b = work.a[--work.n];
            int sub = c->loop_for[b];
            if (sub < 0) {
                if (c->pre[b] < 0) continue;
                c->loop_for[b] = L;
                if (b == header) continue;
                for (int e = c->pred_off[b]; e < c->pred_off[b + 1]; e++)
                    if (ivec_push(&work, c->pred[e])) goto oom;
            } else {
                sub = outermost(c, sub);
                if (sub == L) continue;
                c->loops[sub].parent = L;
                int sh = c->loops[sub].header;
                for (int e = c->pred_off[sh]; e < c->pred_off[sh + 1]; e++)
                    if (c->loop_for[c->pred[e]] != sub && ivec_push(&work, c->pred[e])) goto oom;
            }
        }
    }
    free(work.a);
    work.a = NULL;
    /* PopulateLoopsDFS over the CFG post-order */
    ivec top = {0};
    for (int k = 0; k < npo; k++) {
        int b = c->po[k];
        int sub = c->loop_for[b];
        if (sub >= 0 && b == c->loops[sub].header) {
            int par = c->loops[sub].parent;
            if (ivec_push(par >= 0 ? &c->loops[par].children : &top, sub)) goto oom2;
            ivec *bl = &c->loops[sub].blocks;
            for (size_t x = 1, y = bl->n - 1; x < y; x++, y--) {
                int32_t t = bl->a[x];
                bl->a[x] = bl->a[y];
                bl->a[y] = t;
            }
            ivec *ch = &c->loops[sub].children;
            for (size_t x = 0, y = ch->n ? ch->n - 1 : 0; x < y; x++, y--) {
                int32_t t = ch->a[x];
                ch->a[x] = ch->a[y];
                ch->a[y] = t;
            }
            sub = par;
        }
        for (; sub >= 0; sub = c->loops[sub].parent)
            if (ivec_push(&c->loops[sub].blocks, b)) goto oom2;
    }
    /* li.loops(): each top-level loop, then its children's subtrees (pre-order) */
    if (!grow((void **)&c->lorder, &c->cap_lorder, (size_t)c->nloops + 1, sizeof *c->lorder)) goto oom2;
    int nl = 0;
    NEED(stack, c->nloops + 1);
    for (size_t t = 0; t < top.n; t++) {
        int sp = 0;
        c->stack[sp++] = top.a[t];
        while (sp) {
            int l = c->stack[--sp];
            c->lorder[nl++] = l;
            c->loops[l].depth = c->loops[l].parent >= 0 ? c->loops[c->loops[l].parent].depth + 1 : 1;
            for (size_t q = c->loops[l].children.n; q-- > 0;) c->stack[sp++] = c->loops[l].children.a[q];
        }
    }
    free(top.a);
    if (nl != c->nloops) return -2;   /* a loop outside the tree: cannot happen on a CFG */
    return 0;
oom2:
    free(top.a);
    return -1;
oom:
    free(work.a);
    return -1;
}

/* ------------------------------------------------------------------ the language view */
/* per opcode: reg(0, name), reg(0, name + ">") and reg(~0, name + ">"); index 0 is "^" */
static uint32_t OP_R0[256], OP_R0GT[256], OP_SGT[256];
/* the low 6 bits of OP_SGT and OP_R0GT shifted by L zero bytes: an n-gram's bucket needs no more,
 * and shifts compose (shift_a(shift_b(r)) = shift_{a+b}(r)) so a trigram is three lookups */
static uint8_t OP_PJ_SGT[256][SHIFT_MAX + 1], OP_PJ_R0GT[256][SHIFT_MAX + 1];
/* the normalised tokens that stand for many spellings (%v, @f, <c>), with reg(0, t) and
 * reg(~0, t + " "); next_token returns these very pointers for them */
static const char TOK_V[] = "%v", TOK_F[] = "@f", TOK_C[] = "<c>";
static uint32_t R0_V, R0_F, R0_C, AFTER_V, AFTER_F, AFTER_C;
static uint32_t CHAR_R0[256], CHAR_AFTER[256];   /* the same for one-character tokens */
static uint32_t R0_M1, AFTER_M1;                   /* and for "-1" */
/* the same as token_bigrams takes them, with their proj[] */
static word_crc TW_V, TW_F, TW_C, TW_M1, TW_CHAR[256];

static void fill_proj(word_crc *w) {
    for (int L = 0; L <= SHIFT_MAX; L++) w->proj[L] = (uint8_t)(crc_shift(w->after, L) & 63);
}

static void fixed_word(word_crc *w, uint32_t r0, uint32_t after, int len) {
    w->r0 = r0;
    w->after = after;
    w->len = len;
    fill_proj(w);
}

static void init_op_crcs(void) {
    R0_V = crc_reg(0, TOK_V, 2);
    R0_F = crc_reg(0, TOK_F, 2);
    R0_C = crc_reg(0, TOK_C, 3);
    AFTER_V = crc_reg(crc_reg(~0u, TOK_V, 2), " ", 1);
    AFTER_F = crc_reg(crc_reg(~0u, TOK_F, 2), " ", 1);
    AFTER_C = crc_reg(crc_reg(~0u, TOK_C, 3), " ", 1);
    R0_M1 = crc_reg(0, "-1", 2);
    AFTER_M1 = crc_reg(crc_reg(~0u, "-1", 2), " ", 1);
    for (int ch = 0; ch < 256; ch++) {
        char b = (char)ch;
        CHAR_R0[ch] = crc_reg(0, &b, 1);
        CHAR_AFTER[ch] = crc_reg(crc_reg(~0u, &b, 1), " ", 1);
        fixed_word(&TW_CHAR[ch], CHAR_R0[ch], CHAR_AFTER[ch], 1);
    }
    fixed_word(&TW_V, R0_V, AFTER_V, 2);
    fixed_word(&TW_F, R0_F, AFTER_F, 2);
    fixed_word(&TW_C, R0_C, AFTER_C, 3);
    fixed_word(&TW_M1, R0_M1, AFTER_M1, 2);
    for (int k = 0; k < OPS.n; k++) {
        const char *nm = k ? OPS.name[k] : "^";
        size_t n = strlen(nm);
        OP_R0[k] = crc_reg(0, nm, n);
        OP_R0GT[k] = crc_reg(OP_R0[k], ">", 1);
        OP_SGT[k] = crc_reg(crc_reg(~0u, nm, n), ">", 1);
        for (int L = 0; L <= SHIFT_MAX; L++) {
            OP_PJ_SGT[k][L] = (uint8_t)(crc_shift(OP_SGT[k], L) & 63);
            OP_PJ_R0GT[k][L] = (uint8_t)(crc_shift(OP_R0GT[k], L) & 63);
        }
    }
}

static int oplen(int k) { return k ? OPS.len[k] : 1; }

/* hashed "prev>op" and "prev2>prev>op" (features: _bucket(f"{prev}>{op}") ...) */
static void ngrams(const int *ops, int n, double *row) {
    int p2 = 0, p1 = 0;
    for (int k = 0; k < n; k++) {
        int op = ops[k];
        const char *nm = OPS.name[op];
        int lo = OPS.len[op];
        if (__builtin_expect(oplen(p1) + 1 + lo <= SHIFT_MAX, 1)) {
            row[C_ng_0 + (~(OP_PJ_SGT[p1][lo] ^ OP_R0[op]) & 63)] += 1;
            row[C_ng_0 + (~(OP_PJ_SGT[p2][oplen(p1) + 1 + lo] ^ OP_PJ_R0GT[p1][lo] ^ OP_R0[op]) & 63)] += 1;
            p2 = p1;
            p1 = op;
            continue;
        }
        uint32_t h = ~crc_extend(OP_SGT[p1], OP_R0[op], nm, lo);
        row[C_ng_0 + (h & 63)] += 1;
        uint32_t s2 = oplen(p1) + 1 <= SHIFT_MAX ? crc_shift(OP_SGT[p2], oplen(p1) + 1) ^ OP_R0GT[p1]
                                                  : crc_reg(crc_reg(OP_SGT[p2], OPS.name[p1], (size_t)oplen(p1)), ">", 1);
        h = ~crc_extend(s2, OP_R0[op], nm, lo);
        row[C_ng_0 + (h & 63)] += 1;
        p2 = p1;
        p1 = op;
    }
}

enum { CH_W = 1, CH_TOK = 2, CH_DIGIT = 4, CH_WORD0 = 8, CH_PUNCT = 16, CH_WDOT = 32 };
static uint8_t CH[256];
/* what a character can start, in _TOKEN_RE */
enum { ST_NONE, ST_PCT, ST_AT, ST_MINUS, ST_DIGIT, ST_WORD, ST_PUNCT };
static uint8_t START[256];

static void init_chars(void) {
    for (int ch = 0; ch < 256; ch++) {
        uint8_t f = 0;
        if (is_w((char)ch)) f |= CH_W | CH_TOK | CH_WDOT;
        if (ch == '-' || ch == '$' || ch == '.') f |= CH_TOK;
        if (ch == '.') f |= CH_WDOT;
        if (ch >= '0' && ch <= '9') f |= CH_DIGIT;
        if ((ch >= 'a' && ch <= 'z') || ch == '_') f |= CH_WORD0;
        if (ch && strchr("<>[](){},=*", ch)) f |= CH_PUNCT;
        CH[ch] = f;
        START[ch] = ch == '%' ? ST_PCT : ch == '@' ? ST_AT : ch == '-' ? ST_MINUS : (f & CH_DIGIT) ? ST_DIGIT
                  : (f & CH_WORD0) ? ST_WORD : (f & CH_PUNCT) ? ST_PUNCT : ST_NONE;
    }
}

static int tok_class(char ch) { return CH[(uint8_t)ch] & CH_TOK; }

/* the end of _TOKEN_RE's number from `end`, past its first digit */
static int number_end(const char *s, int n, int end) {
    while (end < n && is_digit(s[end])) end++;
    if (end + 1 < n && s[end] == '.' && is_digit(s[end + 1])) {
        end += 2;
        while (end < n && is_digit(s[end])) end++;
    }
    if (end < n && s[end] == 'e') {
        int q = end + 1;
        if (q < n && (s[q] == '-' || s[q] == '+')) q++;
        if (q < n && is_digit(s[q])) {
            while (q < n && is_digit(s[q])) q++;
            end = q;
        }
    }
    return end;
}

/* the first 16 bytes of a word, zero-padded; a direct load when it cannot pass `end` */
static inline __attribute__((always_inline)) void word_key(const char *b, int lb, const char *end, uint64_t k[2]) {
    if (end - b >= 16) {
        memcpy(k, b, 16);
        if (lb < 8) {
            k[0] &= ((uint64_t)1 << (8 * lb)) - 1;
            k[1] = 0;
        } else if (lb < 16) {
            k[1] &= ((uint64_t)1 << (8 * (lb - 8))) - 1;
        }
    } else {
        k[0] = k[1] = 0;
        memcpy(k, b, (size_t)lb);
    }
}

/* reg(~0, t + " "): the register a bigram starting with t continues from */
static uint32_t after_space(uint32_t r0, const char *b, int lb) {
    return crc_reg(crc_extend(~0u, r0, b, lb), " ", 1);
}

/* a word not in the cache (or one too long for it) into e */
static const word_crc *word_crcs_slow(word_crc *e, const char *b, int lb, const uint64_t k[2]) {
    e->k0 = k[0];
    e->k1 = k[1];
    e->r0 = lb <= SHIFT_MAX ? crc_reg(0, b, (size_t)lb) : 0;
    e->after = after_space(e->r0, b, lb);
    e->len = lb;
    fill_proj(e);
    return e;
}

/* a word's CRCs through the cache; `spare` takes a word too long for it */
static inline __attribute__((always_inline)) const word_crc *word_crcs(word_crc *cache, const char *b, int lb,
                                                                       const char *end, word_crc *spare) {
    uint64_t k[2] = {0, 0};
    if (lb > 16) return word_crcs_slow(spare, b, lb, k);
    word_key(b, lb, end, k);
    uint64_t h = (k[0] * 0x9E3779B97F4A7C15ull) ^ (k[1] * 0xC2B2AE3D27D4EB4Full) ^ (uint64_t)lb;
    word_crc *e = &cache[(h >> 40) & (WORD_CACHE - 1)];
    if (__builtin_expect(e->len != lb || e->k0 != k[0] || e->k1 != k[1], 0)) return word_crcs_slow(e, b, lb, k);
    return e;
}

/* hashed bigrams of the normalised tokens (features._normalised_tokens over _TOKEN_RE): each token
 * as a word_crc, from tables for the normalised and one-character ones */
static void token_bigrams(word_crc *cache, const char *s, int n, const char *src_end, double *row) {
    uint32_t count[64] = {0};
    /* the previous token's CRCs are copied out: the next word may take its cache slot (two
     * words of one bigram that hash to one slot counted the second word twice) */
    word_crc spare, prevw;
    const word_crc *prev = NULL;
    int k = 0;
    for (;;) {
        /* most gaps are one space or a newline and indent: a tight loop over them */
        while (k < n && !START[(uint8_t)s[k]]) k++;
        if (k >= n) break;
        int st = START[(uint8_t)s[k]];
        const char *b = s + k;
        int end, lb;
        const word_crc *w;
        switch (st) {
        case ST_PCT:
            if (k + 1 < n && tok_class(s[k + 1])) {
                for (end = k + 2; end < n && tok_class(s[end]);) end++;
            } else if (k + 1 < n && s[k + 1] == '"') {
                const char *q = memchr(s + k + 2, '"', (size_t)(n - k - 2));
                if (!q) {
                    k++;
                    continue;
                }
                end = (int)(q - s) + 1;
            } else {
                k++;
                continue;
            }
            k = end;
            b = TOK_V, lb = 2, w = &TW_V;
            break;
        case ST_AT:
            if (!(k + 1 < n && tok_class(s[k + 1]))) {
                k++;
                continue;
            }
            for (end = k + 2; end < n && tok_class(s[end]);) end++;
            lb = end - k;
            k = end;
            if (starts(b, lb, "@llvm.")) w = word_crcs(cache, b, lb, src_end, &spare);
            else b = TOK_F, lb = 2, w = &TW_F;
            break;
        case ST_MINUS:
            if (!(k + 1 < n && is_digit(s[k + 1]))) {
                k++;
                continue;
            }
            /* fall through */
        case ST_DIGIT:
            end = number_end(s, n, k + 1);
            lb = end - k;
            k = end;
            if (lb == 1 && (b[0] == '0' || b[0] == '1')) w = &TW_CHAR[(uint8_t)b[0]];
            else if (lb == 2 && b[0] == '-' && b[1] == '1') w = &TW_M1;
            else b = TOK_C, lb = 3, w = &TW_C;
            break;
        case ST_WORD:
            for (end = k + 1; end < n && (CH[(uint8_t)s[end]] & CH_WDOT);) end++;
            lb = end - k;
            k = end;
            if (lb == 1) w = &TW_CHAR[(uint8_t)b[0]];
            else w = word_crcs(cache, b, lb, src_end, &spare);
            break;
        default:   /* ST_PUNCT */
            k++;
            lb = 1, w = &TW_CHAR[(uint8_t)b[0]];
            break;
        }
        if (prev) {
            if (__builtin_expect(lb <= SHIFT_MAX, 1)) count[~(prev->proj[lb] ^ w->r0) & 63]++;
            else count[~crc_reg(prev->after, b, (size_t)lb) & 63]++;
        }
        prevw = *w;
        prev = &prevw;
        k += k < n && s[k] == ' ';   /* the usual one space to the next token, without the skip loop */
    }
    for (int q = 0; q < 64; q++) row[C_tok_0 + q] += count[q];
}

/* ------------------------------------------------------------------ attributes -> cpu.*, gpu.* */
/* the digits at s[k..) as the nearest double (strtod rounds once); past 400 digits it is beyond
 * DBL_MAX anyway */
static double digits_value(const char *s, int n, int k, int *end) {
    char buf[402];
    int m = 0;
    while (k < n && is_digit(s[k])) {
        if (m < 401) buf[m++] = s[k];
        k++;
    }
    buf[m] = 0;
    *end = k;
    return m < 401 ? strtod(buf, NULL) : INFINITY;
}

/* the digits at s[k..) as an integer, saturated at 2^64 (enough to tell a launch bound too large) */
static u128 digits_int(const char *s, int n, int k, int *end) {
    u128 v = 0, cap = (u128)1 << 64;
    for (; k < n && is_digit(s[k]); k++) v = v >= cap ? cap : v * 10 + (u128)(s[k] - '0');
    *end = k;
    return v;
}

/* what the attribute text says: cpu.*, nvvm.kernel, the launch bounds */
static void attribute_scan(const char *s, int n, attr_result *out) {
    memset(out, 0, sizeof *out);
    static const char *const cpu[] = {"+sse4.2", "+avx", "+avx2", "+fma", "+avx512f", "+bmi2"};
    for (int k = 0; k < 6; k++) out->cpu[k] = find_bytes(s, (size_t)n, cpu[k], strlen(cpu[k])) ? 1.0 : 0.0;
    static const char pvw[] = "\"prefer-vector-width\"=\"";
    for (const char *p = s; (p = find_bytes(p, (size_t)(s + n - p), pvw, sizeof pvw - 1)); p++) {
        int k = (int)(p - s) + (int)sizeof pvw - 1, e;
        if (k < n && is_digit(s[k])) {
            double v = digits_value(s, n, k, &e);
            if (e < n && s[e] == '"') {
                out->cpu[6] = v;
                break;
            }
        }
    }
    out->kernel = find_bytes(s, (size_t)n, "\"nvvm.kernel\"", 13) != NULL;
    static const char *const ssp[] = {"ssp", "sspstrong", "sspreq"};
    for (int k = 0; k < 3; k++)
        for (const char *q = s; (q = find_bytes(q, (size_t)(s + n - q), ssp[k], strlen(ssp[k]))); q++) {
            size_t e = (size_t)(q - s) + strlen(ssp[k]);
            if ((q == s || !(is_w(q[-1]) || q[-1] == '"')) && (e == (size_t)n || !(is_w(s[e]) || s[e] == '"'))) {
                out->ssp = k + 1;
                break;
            }
        }
    /* launch_threads: the first match of _MAXNTID; both alternatives hold "maxntid", the first 6
     * bytes after its start, and two occurrences are more than 6 bytes apart */
    for (const char *q = s; (q = find_bytes(q, (size_t)(s + n - q), "maxntid", 7)); q++) {
        u128 prod = 1, cap = (u128)1 << 64;
        int found = 0, e, p = (int)(q - s);
        if (p >= 6 && starts(s + p - 6, n - p + 6, "\"nvvm.maxntid\"=\"") && p + 10 < n && is_digit(s[p + 10])) {
            u128 g[3];
            int ng = 0, k = p + 10;
            g[ng++] = digits_int(s, n, k, &e);
            k = e;
            while (ng < 3 && k + 1 < n && s[k] == ',' && is_digit(s[k + 1])) {
                g[ng++] = digits_int(s, n, k + 1, &e);
                k = e;
            }
            if (k < n && s[k] == '"') {
                found = 1;
                for (int z = 0; z < ng; z++) prod = prod && g[z] > cap / prod ? cap : prod * g[z];
            }
        }
        if (!found) {
            int k = p + 7;
            if (k < n && (s[k] == 'x' || s[k] == 'y' || s[k] == 'z')) k++;
            if (k < n && s[k] == '"') k++;
            if (k < n && s[k] == ',') k++;
            while (k < n && is_space(s[k])) k++;
            if (starts(s + k, n - k, "i32")) {
                k += 3;
                int w0 = k;
                while (k < n && is_space(s[k])) k++;
                if (k > w0 && k < n && is_digit(s[k])) {
                    found = 1;
                    prod = digits_int(s, n, k, &e);
                }
            }
        }
        if (found) {
            /* threads per block, all dimensions multiplied; past 2^63 no bound means anything */
            if (prod >= (u128)1 << 63) out->reason |= R_BIGINT;
            else out->max_threads = (double)prod;
            break;
        }
    }
}

/* functions of a module mostly share their attributes: the last text's results are kept */
static int attribute_features(ctx *c, const header_info *hi, double *row, uint32_t *reason) {
    const char *s = c->attrs.a;
    size_t n = c->attrs.n;
    if (!c->attr_cached || c->attr_text.n != n || memcmp(c->attr_text.a, s, n) != 0) {
        attribute_scan(s, (int)n, &c->attr_last);
        c->attr_text.n = 0;
        if (cbuf_add(&c->attr_text, s, n)) return -1;
        c->attr_cached = 1;
    }
    const attr_result *a = &c->attr_last;
    for (int k = 0; k < 7; k++) row[C_cpu_sse4_2 + k] = a->cpu[k];
    if (hi->ptx_kernel || a->kernel) row[C_gpu_is_kernel] = 1.0;
    if (a->max_threads != 0) row[C_gpu_max_threads] = a->max_threads;
    *reason |= a->reason;
    if (c->has_shared) row[C_gpu_shared_bytes] = (double)c->shared_bytes;
    return 0;
}

/* ------------------------------------------------------------------ trip counts */
/* (x, k) when v is `add x, k`, `sub x, k` (k negated) or `or x, k` */
static int add_const(const ctx *c, int32_t v, int32_t *x, i128 *k, uint32_t *reason) {
    if (pyclass(c, v) != PY_INST) return 0;
    int i = vindex(c, v), op = iop(c, i);
    if (op != OPS.add && op != OPS.sub && op != OPS.or_) return 0;
    if (COL(c, LLP_INSTS, i, I_NOPS) != 2 || !inst_ok(c, i)) return 0;
    i128 ka, kb;
    int ha = const_int(c, iopnd(c, i, 0), &ka, reason), hb = const_int(c, iopnd(c, i, 1), &kb, reason);
    if (hb && !ha) {
        if (op == OPS.sub && kb == I128_MIN) {
            *reason |= R_BIGINT;
            return 0;
        }
        *x = iopnd(c, i, 0);
        *k = op == OPS.sub ? -kb : kb;
        return 1;
    }
    if (ha && !hb && op != OPS.sub) {
        *x = iopnd(c, i, 1);
        *k = ka;
        return 1;
    }
    return 0;
}

static int is_op(const ctx *c, int32_t v, int op) { return pyclass(c, v) == PY_INST && iop(c, vindex(c, v)) == op; }

static int is_latch(const ctx *c, int l, int b) {
    int h = c->loops[l].header;
    for (int e = c->pred_off[h]; e < c->pred_off[h + 1]; e++)
        if (c->pred[e] == b) return 1;
    return 0;
}

static int is_exiting(const ctx *c, int l, int b) {
    for (int e = c->succ_off[b]; e < c->succ_off[b + 1]; e++)
        if (!in_loop(c, c->succ[e], l)) return 1;
    return 0;
}

/* features._upper_bound: a constant upper bound of v (constants, llvm.smin/umin, integer casts, x & k of one) */
static int upper_bound(const ctx *c, int32_t v, int depth, i128 *out, uint32_t *reason) {
    if (const_int(c, v, out, reason)) return 1;
    if (depth >= 4 || pyclass(c, v) != PY_INST) return 0;
    int i = vindex(c, v), op = iop(c, i), n = COL(c, LLP_INSTS, i, I_NOPS);
    if (!inst_ok(c, i)) return 0;
    if (op == OPS.trunc || op == OPS.zext || op == OPS.sext)
        return n >= 1 && upper_bound(c, iopnd(c, i, 0), depth + 1, out, reason);
    if (op == OPS.and_) {
        if (n < 2) return 0;
        i128 ka, kb, bx;
        int ha = const_int(c, iopnd(c, i, 0), &ka, reason), hb = const_int(c, iopnd(c, i, 1), &kb, reason);
        if (ha == hb) return 0;
        i128 k = ha ? ka : kb;
        if (k < 0) return 0;
        if (!upper_bound(c, iopnd(c, i, ha ? 1 : 0), depth + 1, &bx, reason)) return 0;
        *out = bx < k ? bx : k;
        return 1;
    }
    if (op == OPS.call) {
        int f = callee_func(c, i);
        if (f < 0 || !(c->fkind[f] & NK_MIN) || COL(c, LLP_INSTS, i, I_NARGS) != 2) return 0;
        i128 b0, b1;
        int h0 = upper_bound(c, iopnd(c, i, 0), depth + 1, &b0, reason);
        int h1 = upper_bound(c, iopnd(c, i, 1), depth + 1, &b1, reason);
        if (!h0 && !h1) return 0;
        *out = !h0 ? b1 : !h1 ? b0 : (b0 < b1 ? b0 : b1);
        return 1;
    }
    return 0;
}

/* 1 for the constant `true`, 0 for `false`, -1 otherwise */
static int const_bool(const ctx *c, int32_t vid) {
    if (pyclass(c, vid) != PY_CONST || ckind(c, vid) != LLP_C_INT) return -1;
    int i = vindex(c, vid);
    int32_t off = COL(c, LLP_CONSTS, i, C_OFF), end = COL(c, LLP_CONSTS, i, C_END);
    if (end <= off || !in_src(c, off, end - off)) return -1;
    if (equals(c->src + off, end - off, "true")) return 1;
    if (equals(c->src + off, end - off, "false")) return 0;
    return -1;
}

/* features._two_trips: br (phi i1 [c, outside], [!c, inside]) whose entry value stays in the loop */
static int two_trips(const ctx *c, const fn_t *fn, int l, int term, int32_t cmp) {
    if (!is_op(c, cmp, OPS.phi)) return 0;
    int pi = vindex(c, cmp), np = COL(c, LLP_INSTS, pi, I_NOPS);
    if (!inst_ok(c, pi) || np != 2 || COL(c, LLP_INSTS, pi, I_NTOTAL) != 2 * np) return 0;
    int inside[2];
    for (int k = 0; k < 2; k++) {
        int b = const_bool(c, iopnd(c, pi, k));
        int frm = local_block(c, fn, iopnd(c, pi, np + k));
        int dest = local_block(c, fn, iopnd(c, term, b ? 2 : 1));   /* LLVM's order: cond, false, true */
        if (b < 0 || frm < 0 || dest < 0) return 0;
        inside[k] = in_loop(c, frm, l);
        if (inside[k] == in_loop(c, dest, l)) return 0;
    }
    return inside[0] != inside[1];
}

/* features._low_mask_bound: v = x & M with M all ones from bit t up; (x & M) == 0 is x < 2^t */
static int low_mask_bound(const ctx *c, int32_t v, int32_t *x, i128 *bound, uint32_t *reason) {
    if (!is_op(c, v, OPS.and_)) return 0;
    int i = vindex(c, v);
    if (COL(c, LLP_INSTS, i, I_NOPS) != 2 || !inst_ok(c, i)) return 0;
    i128 m;
    int32_t a = iopnd(c, i, 0), b = iopnd(c, i, 1);
    if (const_int(c, b, &m, reason)) *x = a;
    else if (const_int(c, a, &m, reason)) *x = b;
    else return 0;
    if (m == 0) return 0;
    if (m == I128_MIN) {   /* the bound would be 2^127 */
        *reason |= R_BIGINT;
        return 0;
    }
    if (m < 0) {
        i128 low = -m;
        if (low > 1 && (low & (low - 1)) == 0) {
            *bound = low;
            return 1;
        }
        return 0;
    }
    u128 um = (u128)m;
    uint64_t lo = (uint64_t)um;
    int t = lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(um >> 64));
    i128 ones = m >> t;
    if (t >= 1 && (ones & (ones + 1)) == 0) {
        *bound = (i128)1 << t;
        return 1;
    }
    return 0;
}

static int bit_length(u128 x) {
    uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
    return hi ? 128 - __builtin_clzll(hi) : lo ? 64 - __builtin_clzll(lo) : 0;
}

/* a / b (b > 0) as the nearest double, ties to even, as integer true division is exact-then-rounded;
 * -1 for a divisor past 2^72 (the quotient's guard bits would not fit) */
static double div_rounded(u128 a, u128 b) {
    const u128 exact = (u128)1 << 53;
    if (a < exact && b < exact) return (double)a / (double)b;   /* both exact: IEEE rounds once */
    if (a == 0) return 0.0;
    /* a quotient of 55 or 56 bits, its last bit set when anything was left: rounding that to 53 bits
     * rounds the true quotient */
    int shift = bit_length(a) - bit_length(b) - 55;
    u128 q, r;
    if (shift >= 0) {
        u128 d = b << shift;
        q = a / d;
        r = a % d;
    } else {
        if (bit_length(b) > 72) return -1;
        u128 n = a << -shift;
        q = n / b;
        r = n % b;
    }
    if (r) q |= 1;
    return ldexp((double)(uint64_t)q, shift);
}

/* one icmp (iv + k), C with iv = phi [start], [iv + step]; 0 when unknown */
static int icmp_trips(const ctx *c, const fn_t *fn, int l, int32_t cmp, int latch, double *out, uint32_t *reason) {
    if (!is_op(c, cmp, OPS.icmp)) return 0;
    int ci = vindex(c, cmp);
    if (COL(c, LLP_INSTS, ci, I_NOPS) < 2 || !inst_ok(c, ci)) {
        *reason |= R_SHAPE;
        return 0;
    }
    int32_t a = iopnd(c, ci, 0), cc = iopnd(c, ci, 1), var = a;
    i128 bound, off = 0, start = 0, step = 1;
    if (!const_int(c, cc, &bound, reason)) {
        var = cc;
        if (!const_int(c, a, &bound, reason)) {
            var = a;
            if (!upper_bound(c, cc, 0, &bound, reason)) {
                var = cc;
                if (!upper_bound(c, a, 0, &bound, reason)) return 0;
            }
        }
    }
    if (bound == 0) {
        int32_t x;
        i128 lb;
        if (low_mask_bound(c, var, &x, &lb, reason)) {
            var = x;
            bound = lb;
        }
    }
    if ((is_op(c, var, OPS.trunc) || is_op(c, var, OPS.zext) || is_op(c, var, OPS.sext))
        && inst_ok(c, vindex(c, var)) && COL(c, LLP_INSTS, vindex(c, var), I_NOPS) >= 1)
        var = iopnd(c, vindex(c, var), 0);
    if (!is_op(c, var, OPS.phi)) {
        int32_t x;
        if (!add_const(c, var, &x, &off, reason)) return 0;
        var = x;
        if (!is_op(c, var, OPS.phi)) return 0;
    }
    int pi = vindex(c, var);
    int np = COL(c, LLP_INSTS, pi, I_NOPS);
    if (!inst_ok(c, pi) || COL(c, LLP_INSTS, pi, I_NTOTAL) != 2 * np) {
        *reason |= R_SHAPE;
        return 0;
    }
    for (int k = 0; k < np; k++) {
        int32_t val = iopnd(c, pi, k);
        int frm = local_block(c, fn, iopnd(c, pi, np + k));
        if (frm < 0) {
            *reason |= R_SHAPE;
            continue;
        }
        if (in_loop(c, frm, l)) {
            int32_t x;
            i128 kk;
            if (add_const(c, val, &x, &kk, reason) && x == var && kk != 0) step = kk;
        } else {
            i128 kk;
            if (const_int(c, val, &kk, reason)) start = kk;
        }
    }
    /* |bound - off - start| / |step| + latch, the division rounded once */
    i128 d;
    if (__builtin_sub_overflow(bound, off, &d) || __builtin_sub_overflow(d, start, &d)) {
        *reason |= R_BIGINT;
        return 0;
    }
    u128 ad = d < 0 ? ~(u128)d + 1 : (u128)d, as = step < 0 ? ~(u128)step + 1 : (u128)step;
    double q = div_rounded(ad, as);
    if (q < 0) {
        *reason |= R_BIGINT;
        return 0;
    }
    double nn = q + (latch ? 1 : 0);
    if (nn < 1) return 0;
    *out = ceil(nn);
    return 1;
}

static int is_i1(const ctx *c, int32_t v) {
    int32_t e, t = obj_type(c, v);
    if (t < 0) return 0;
    t = resolve(c, t, &e);
    return tkind(c, t) == LLP_T_INT && ta(c, t) == 1;
}

/* features._conjuncts: the sides of a && b (the loop stays while it holds) or a || b (it leaves once
 * it holds), each of which alone bounds the loop; else the condition itself.  Returns how many. */
static int conjuncts(const ctx *c, int32_t cond, int stays, int32_t out[2]) {
    out[0] = cond;
    if (pyclass(c, cond) != PY_INST) return 1;
    int i = vindex(c, cond), op = iop(c, i), n = COL(c, LLP_INSTS, i, I_NOPS);
    if (!inst_ok(c, i)) return 1;
    if (op == OPS.select && n == 3) {
        if (stays && const_bool(c, iopnd(c, i, 2)) == 0) {
            out[0] = iopnd(c, i, 0);
            out[1] = iopnd(c, i, 1);
            return 2;
        }
        if (!stays && const_bool(c, iopnd(c, i, 1)) == 1) {
            out[0] = iopnd(c, i, 0);
            out[1] = iopnd(c, i, 2);
            return 2;
        }
    }
    if (n == 2 && ((op == OPS.and_ && stays) || (op == OPS.or_ && !stays)) && is_i1(c, cond)) {
        out[0] = iopnd(c, i, 0);
        out[1] = iopnd(c, i, 1);
        return 2;
    }
    return 1;
}

/* features._trip_count; 0 when not constant */
static int trip_count(const ctx *c, const fn_t *fn, int l, double *out, uint32_t *reason) {
    const ivec *bl = &c->loops[l].blocks;
    for (size_t q = 0; q < bl->n; q++) {
        int b = bl->a[q];
        if (!is_exiting(c, l, b)) continue;
        int row = fn->b0 + b, ni = COL(c, LLP_BLOCKS, row, B_ICOUNT);
        if (ni <= 0) continue;
        int term = COL(c, LLP_BLOCKS, row, B_ISTART) + ni - 1;
        if (iop(c, term) != OPS.br || COL(c, LLP_INSTS, term, I_NOPS) != 3) continue;
        int32_t cmp = iopnd(c, term, 0);
        if (two_trips(c, fn, l, term, cmp)) {
            *out = 2;
            return 1;
        }
        int dest = local_block(c, fn, iopnd(c, term, 2));      /* LLVM's order: cond, false, true */
        if (dest < 0) {
            *reason |= R_SHAPE;
            continue;
        }
        int32_t side[2];
        int ns = conjuncts(c, cmp, in_loop(c, dest, l), side), found = 0;
        double best = 0;
        for (int k = 0; k < ns; k++) {
            double n;
            if (icmp_trips(c, fn, l, side[k], is_latch(c, l, b), &n, reason) && (!found || n < best)) {
                best = n;
                found = 1;
            }
        }
        if (found) {
            *out = best;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ register pressure */
/* the loop-extended last use: a use in a loop that does not hold the definition lives to its end */
static int64_t extend_in_loops(const ctx *c, int64_t end, int ub, int def_block) {
    for (int l = c->loop_for[ub]; l >= 0 && !(def_block >= 0 && in_loop(c, def_block, l)); l = c->loops[l].parent)
        if (c->loops[l].last > end) end = c->loops[l].last;
    return end;
}

/* local value index of vid: arguments 0..na-1, then instructions na..na+ni-1; -1 otherwise */
static int local_value(const ctx *c, const fn_t *fn, int32_t vid) {
    int pc = pyclass(c, vid);
    if (pc == PY_ARG) {
        int a = vindex(c, vid) - fn->a0;
        return a >= 0 && a < fn->na ? a : -1;
    }
    if (pc == PY_INST) {
        int i = vindex(c, vid) - fn->i0;
        return i >= 0 && i < fn->ni ? fn->na + i : -1;
    }
    return -1;
}

static int pressure(ctx *c, const fn_t *fn, double *row, uint32_t *reason) {
    int nv = fn->na + fn->ni;
    NEED(vend, nv);
    NEED(used, nv);
    memset(c->used, 0, (size_t)nv + 1);
    for (int v = 0; v < nv; v++) c->vend[v] = v < fn->na ? -1 : v - fn->na;
    for (int l = 0; l < c->nloops; l++) {
        int last = -1;
        for (size_t q = 0; q < c->loops[l].blocks.n; q++)
            if (c->block_end[c->loops[l].blocks.a[q]] > last) last = c->block_end[c->loops[l].blocks.a[q]];
        c->loops[l].last = last;
    }
    for (int k = 0; k < fn->ni; k++) {
        int i = fn->i0 + k;
        int ub = COL(c, LLP_INSTS, i, I_BLOCK) - fn->b0;
        int nops = COL(c, LLP_INSTS, i, I_NOPS), nt = COL(c, LLP_INSTS, i, I_NTOTAL);
        int phi = iop(c, i) == OPS.phi;
        for (int q = 0; q < nt; q++) {
            int v = local_value(c, fn, iopnd(c, i, q));
            if (v < 0) continue;
            c->used[v] = 1;
            if (phi) {
                if (q >= nops || nt != 2 * nops) continue;
                int frm = local_block(c, fn, iopnd(c, i, nops + q));
                if (frm < 0) {
                    *reason |= R_SHAPE;
                    continue;
                }
                if (c->block_end[frm] > c->vend[v]) c->vend[v] = c->block_end[frm];
                continue;
            }
            int64_t end = c->vend[v] > k ? c->vend[v] : k;
            int def_block = v < fn->na ? -1 : COL(c, LLP_INSTS, fn->i0 + v - fn->na, I_BLOCK) - fn->b0;
            c->vend[v] = extend_in_loops(c, end, ub, def_block);
        }
    }
    /* the sweep over events sorted by (time, +-1, regs): at one time the ends come before the
     * starts, so only the totals per time matter for the maxima and the area */
    int nt = fn->ni + 2;
    if (!grow((void **)&c->ev, &c->cap_ev, (size_t)nt, sizeof *c->ev)) return -1;
    memset(c->ev, 0, sizeof *c->ev * (size_t)nt);
    int nvals = 0, wide = 0;
    for (int v = 0; v < nv; v++) {
        int32_t ty;
        int64_t start;
        if (v < fn->na) {
            ty = COL(c, LLP_ARGS, fn->a0 + v, A_TYPE);
            start = -1;
        } else {
            ty = COL(c, LLP_INSTS, fn->i0 + v - fn->na, I_TYPE);
            if (tkind(c, ty) == LLP_T_VOID) continue;
            start = v - fn->na;
        }
        if (!c->used[v]) continue;
        i128 b = bits(c, ty, reason), regs = (b + 31) / 32;
        if (regs < 1) regs = 1;
        nvals++;
        wide += regs > 2;
        int64_t t0 = start < 0 ? 0 : start, t1 = c->vend[v] + 1;
        if (t1 < 0 || t1 >= nt) {
            *reason |= R_SHAPE;
            continue;
        }
        c->ev[t0].start_n++;
        c->ev[t0].start_regs += regs;
        c->ev[t1].end_n++;
        c->ev[t1].end_regs += regs;
    }
    int64_t live = 0, best = 0, last = 0;
    i128 regs_live = 0, best_regs = 0;
    double area = 0;
    for (int t = 0; t < nt; t++) {
        const event *e = &c->ev[t];
        if (!e->start_n && !e->end_n) continue;
        area += (double)(live * (t - last));
        last = t;
        live += e->start_n - e->end_n;
        regs_live += e->start_regs - e->end_regs;
        if (live > best) best = live;
        if (regs_live > best_regs) best_regs = regs_live;
    }
    row[C_x_max_live] = (double)best;
    row[C_x_max_live_regs] = (double)best_regs;
    row[C_x_mean_live] = area / (double)(fn->ni > 1 ? fn->ni : 1);
    row[C_x_values] = nvals;
    row[C_x_wide_values] = wide;
    return 0;
}

/* ------------------------------------------------------------------ lowering */
/* What x86-64 code generation makes of the IR, beyond an instruction count: calls and what they cost
 * around them (argument moves, tail calls, callee-saved registers for the values live across them),
 * instructions that vanish (casts, folded loads and address arithmetic, compares fused into their
 * branch, fall-through branches) and ones that grow (64-bit division, switches, inline memcpy).  lo.est
 * adds them up to an estimate of the function's machine instructions.  The rules were measured against
 * llc-22 on real Debian packages (research/realcode_features/cv_lo.py: by-package cross-validated
 * machine-instruction MAPE 13.9% -> 9.2% with them, on 87 packages). */
enum { U_NOT_LDST = 1, U_OTHER_BLOCK = 2, U_NOT_BRSEL = 4 };

/* instruction i's local value, used once, by an instruction of its own block: that user, else -1 */
static int sole_local_user(const ctx *c, const fn_t *fn, int i) {
    int v = fn->na + i - fn->i0;
    return c->lo_nuse[v] == 1 && !(c->lo_uflag[v] & U_OTHER_BLOCK) ? c->lo_user[v] : -1;
}

/* call arguments that need a move into their register: an argument of the caller's in another
 * position, a constant or global, a value used again after the call (one used only here is computed
 * straight into the register) */
static int moved_arguments(const ctx *c, const fn_t *fn, int i) {
    int n = 0, nargs = COL(c, LLP_INSTS, i, I_NARGS);
    for (int j = 0; j < nargs; j++) {
        int v = local_value(c, fn, iopnd(c, i, j));
        if (v < 0) n++;
        else if (v < fn->na) n += v != j;
        else n += c->lo_nuse[v] > 1;
    }
    return n;
}

/* ret r gives back call i's value (me), or nothing: directly or through a phi of r's block whose value
 * coming from block `from` is me */
static int returns_call(const ctx *c, int r, int32_t me, int32_t from) {
    if (COL(c, LLP_INSTS, r, I_NOPS) == 0) return 1;
    int32_t v = iopnd(c, r, 0);
    if (v == me) return 1;
    if (!is_op(c, v, OPS.phi)) return 0;
    int p = vindex(c, v), nops = COL(c, LLP_INSTS, p, I_NOPS), hit = 0;
    if (COL(c, LLP_INSTS, p, I_BLOCK) != COL(c, LLP_INSTS, r, I_BLOCK) || COL(c, LLP_INSTS, p, I_NTOTAL) != 2 * nops)
        return 0;
    for (int q = 0; q < nops; q++)
        if (iopnd(c, p, nops + q) == from) {
            if (iopnd(c, p, q) != me) return 0;
            hit = 1;
        }
    return hit;
}

/* a call the code generator turns into a jump: followed by a ret of its value, or by a branch to a
 * block of phis and such a ret (tail duplication copies that ret into the caller's block) */
static int tail_position(const ctx *c, const fn_t *fn, int i, int nx, int32_t block_vid) {
    int32_t me = COL(c, LLP_INSTS, i, I_VID);
    if (nx < 0) return 0;
    if (iop(c, nx) == OPS.ret) return returns_call(c, nx, me, -1);
    if (iop(c, nx) != OPS.br || COL(c, LLP_INSTS, nx, I_NOPS) != 1) return 0;
    int tb = local_block(c, fn, iopnd(c, nx, 0));
    if (tb < 0) return 0;
    int r0 = COL(c, LLP_BLOCKS, fn->b0 + tb, B_ISTART), rn = COL(c, LLP_BLOCKS, fn->b0 + tb, B_ICOUNT);
    if (rn < 1 || iop(c, r0 + rn - 1) != OPS.ret) return 0;
    for (int q = r0; q < r0 + rn - 1; q++)
        if (iop(c, q) != OPS.phi) return 0;
    return returns_call(c, r0 + rn - 1, me, block_vid);
}

/* call i (opcode op) is marked tail and stands in tail position of its block (brow): a jmp for llc */
static int tail_call_at(const ctx *c, const fn_t *fn, int i, int op, int brow) {
    int i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
    return op == OPS.call && (COL(c, LLP_INSTS, i, I_FLAGS) & OPS.tail_flags)
           && tail_position(c, fn, i, i + 1 < i0 + ni ? i + 1 : -1, COL(c, LLP_BLOCKS, brow, B_VID));
}

static int is_free_intrinsic(const char *s, int n) {
    static const char *const free_[] = {"llvm.lifetime.", "llvm.dbg.", "llvm.assume", "llvm.experimental.noalias.scope.decl",
                                        "llvm.invariant.", "llvm.sideeffect", "llvm.pseudoprobe", "llvm.var.annotation",
                                        "llvm.donothing", "llvm.objectsize", "llvm.launder.invariant.group",
                                        "llvm.strip.invariant.group", "llvm.va_end", "llvm.prefetch", "llvm.expect", NULL};
    for (int k = 0; free_[k]; k++)
        if (starts(s, n, free_[k])) return 1;
    return 0;
}

/* lo_kept, filled by exact_liveness: what the register allocator sees of each local value */
enum { K_NONE = 0, K_KEPT = 1, K_SUNK = 2 };

/* a value the register allocator keeps (K_KEPT): an argument or an instruction with a result, not an
 * alloca (a frame slot, its address rebuilt from the stack pointer) and not one computed where it is
 * used (K_SUNK); -1 for the rest */
static int kept_value(const ctx *c, const fn_t *fn, int32_t vid) {
    int v = local_value(c, fn, vid);
    return v >= 0 && c->lo_kept[v] == K_KEPT ? v : -1;
}

/* what a use of local value v stands for after instruction selection: a K_SUNK value (a free cast, an
 * address only loads and stores use, a compare only a branch or select uses) is renamed, folded into an
 * addressing mode or sunk next to its user by CodeGenPrepare, so its use reads its operands; those live
 * on instead.  The kept values, written to out (at most 8); their number. */
static int use_stands_for(const ctx *c, const fn_t *fn, int32_t vid, int *out, int n, int depth) {
    int v = local_value(c, fn, vid);
    if (v < 0 || n >= 8) return n;
    if (c->lo_kept[v] == K_KEPT) {
        for (int k = 0; k < n; k++)
            if (out[k] == v) return n;
        out[n++] = v;
    } else if (c->lo_kept[v] == K_SUNK && depth < 4) {
        int i = fn->i0 + v - fn->na, nops = COL(c, LLP_INSTS, i, I_NOPS);
        for (int q = 0; q < nops; q++) n = use_stands_for(c, fn, iopnd(c, i, q), out, n, depth + 1);
    }
    return n;
}

/* K_SUNK: see use_stands_for.  An address with at most one variable index fits x86's base + index*scale
 * + displacement; a compare that only branches and selects use is re-emitted beside each of them
 * (CodeGenPrepare sinks compares and addresses into their users' blocks, so neither is live across
 * anything on its own). */
static int sunk_value(const ctx *c, const fn_t *fn, int i) {
    int v = fn->na + i - fn->i0, op = iop(c, i), nops = COL(c, LLP_INSTS, i, I_NOPS);
    if (OPS.lo[op] & LO_FREE) return nops >= 1;
    if (op == OPS.gep) {
        if (!c->lo_nuse[v] || (c->lo_uflag[v] & U_NOT_LDST)) return 0;
        int var = 0;
        for (int q = 1; q < nops; q++) var += local_value(c, fn, iopnd(c, i, q)) >= 0;
        return var <= 1;
    }
    if (op == OPS.icmp || op == OPS.fcmp_) return c->lo_nuse[v] && !(c->lo_uflag[v] & U_NOT_BRSEL);
    return 0;
}

/* SSA liveness (the standard backward dataflow over the CFG's blocks, a phi's operand live at the end
 * of its incoming block): the most values live at once (lo.pressure), and at each call of lo_calls
 * (local positions, ascending) the values live across it.  Returns 1 when done, 0 when the function is
 * too large for the bitsets (the caller then keeps the linear-layout approximation), -1 out of memory. */
static int exact_liveness(ctx *c, const fn_t *fn, int npo, int ncalls, double *row) {
    int nv = fn->na + fn->ni, nb = fn->nb;
    size_t words = ((size_t)nv + 63) / 64, cells = words * (size_t)nb;
    if (cells > ((size_t)1 << 24)) return 0;   /* 5 x 128 MB of bitsets: only giant generated functions */
    NEED(lo_bits, cells * 5);
    NEED(lo_kept, nv);
    NEED(lo_live, nv);
    NEED(lo_iscall, fn->ni);
    NEED(lo_stack, nv);
    NEED(lo_fp, nv);
    /* per block: upward-exposed uses, definitions, phi uses on its out-edges, live-in, live-out */
    uint64_t *m = c->lo_bits;
    memset(m, 0, sizeof *m * cells * 5);
    uint8_t *live = c->lo_live, *iscall = c->lo_iscall;
    int32_t *stackv = c->lo_stack;
    memset(live, 0, (size_t)nv);
    memset(iscall, 0, (size_t)fn->ni);
    for (int v = 0; v < nv; v++) {
        int i = fn->i0 + v - fn->na;
        c->lo_kept[v] = v < fn->na ? K_KEPT
                        : iop(c, i) == OPS.alloca_ || tkind(c, COL(c, LLP_INSTS, i, I_TYPE)) == LLP_T_VOID ? K_NONE
                        : sunk_value(c, fn, i) ? K_SUNK : K_KEPT;
        /* the register file a value lives in: SysV x86-64 keeps no XMM register across a call, so an
         * FP or vector value live across one is spilled, while a GPR value takes a callee-saved one */
        int k = tkind(c, v < fn->na ? COL(c, LLP_ARGS, fn->a0 + v, A_TYPE) : COL(c, LLP_INSTS, i, I_TYPE));
        c->lo_fp[v] = k == LLP_T_FP || k == LLP_T_VECTOR;
    }
    const uint8_t *fp = c->lo_fp;
    uint64_t *ue = m, *def = m + cells, *phiout = m + 2 * cells, *in = m + 3 * cells, *out = m + 4 * cells;
#define BIT(set, b, v) ((set)[(size_t)(b) * words + (size_t)(v) / 64] & ((uint64_t)1 << ((v) % 64)))
#define SETBIT(set, b, v) ((set)[(size_t)(b) * words + (size_t)(v) / 64] |= ((uint64_t)1 << ((v) % 64)))
    for (int v = 0; v < fn->na; v++) SETBIT(def, 0, v);
    for (int b = 0; b < nb; b++) {
        int brow = fn->b0 + b, i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        for (int i = i0; i < i0 + ni; i++) {
            int nops = COL(c, LLP_INSTS, i, I_NOPS), nt = COL(c, LLP_INSTS, i, I_NTOTAL);
            int vs[8];
            if (iop(c, i) == OPS.phi) {
                for (int q = 0; q < nops && nt == 2 * nops; q++) {
                    int from = local_block(c, fn, iopnd(c, i, nops + q));
                    for (int k = 0, n = use_stands_for(c, fn, iopnd(c, i, q), vs, 0, 0); k < n && from >= 0; k++)
                        SETBIT(phiout, from, vs[k]);
                }
            } else if (c->lo_kept[fn->na + i - fn->i0] != K_SUNK) {   /* a sunk value's uses read them */
                for (int q = 0; q < nt; q++)
                    for (int k = 0, n = use_stands_for(c, fn, iopnd(c, i, q), vs, 0, 0); k < n; k++)
                        if (!BIT(def, b, vs[k])) SETBIT(ue, b, vs[k]);
            }
            int d = kept_value(c, fn, COL(c, LLP_INSTS, i, I_VID));
            if (d >= 0) SETBIT(def, b, d);
        }
    }
    for (int changed = 1; changed;) {
        changed = 0;
        for (int k = 0; k < npo; k++) {   /* postorder: successors first, few rounds */
            int b = c->po[k];
            uint64_t *o = out + (size_t)b * words, *n = in + (size_t)b * words;
            for (size_t w = 0; w < words; w++) o[w] = phiout[(size_t)b * words + w];
            for (int e = c->succ_off[b]; e < c->succ_off[b + 1]; e++) {
                const uint64_t *s = in + (size_t)c->succ[e] * words;
                for (size_t w = 0; w < words; w++) o[w] |= s[w];
            }
            for (size_t w = 0; w < words; w++) {
                uint64_t x = ue[(size_t)b * words + w] | (o[w] & ~def[(size_t)b * words + w]);
                if (x != n[w]) {
                    n[w] = x;
                    changed = 1;
                }
            }
        }
    }
    for (int k = 0; k < ncalls; k++) iscall[c->lo_calls[k]] = 1;
    int64_t most = 0, across_max = 0, across_sum = 0;
    /* by register file: the most live GPR / FP values, those live across calls, and the excess over
     * what the file holds (15 allocatable GPRs, 16 XMMs; 6 callee-saved GPRs at a call), summed over
     * the program points: what the register allocator has to spill */
    int64_t most_g = 0, most_f = 0, gx_max = 0, fx_max = 0, fx_sum = 0, gx_excess = 0, over_g = 0, over_f = 0;
    for (int k = 0; k < npo; k++) {
        int b = c->po[k], brow = fn->b0 + b;
        int i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        int64_t count = 0, cf = 0;
        int sp = 0;
        for (size_t w = 0; w < words; w++)   /* the set bits of live-out, a word at a time */
            for (uint64_t x = out[(size_t)b * words + w]; x; x &= x - 1) {
                int v = (int)(w * 64 + (size_t)__builtin_ctzll(x));
                live[v] = 1;
                stackv[sp++] = v;
                count++;
                cf += fp[v];
            }
        if (count > most) most = count;
        for (int i = i0 + ni - 1; i >= i0; i--) {
            int d = kept_value(c, fn, COL(c, LLP_INSTS, i, I_VID));
            if (iscall[i - fn->i0]) {
                int dl = d >= 0 && live[d];
                int64_t x = count - dl, xf = cf - (dl && fp[d]), xg = x - xf;
                across_sum += x;
                if (x > across_max) across_max = x;
                if (xg > gx_max) gx_max = xg;
                if (xf > fx_max) fx_max = xf;
                fx_sum += xf;
                gx_excess += xg > 6 ? xg - 6 : 0;
            }
            if (d >= 0 && live[d]) {
                live[d] = 0;
                count--;
                cf -= fp[d];
            }
            if (iop(c, i) != OPS.phi && c->lo_kept[i - fn->i0 + fn->na] != K_SUNK) {
                int nt = COL(c, LLP_INSTS, i, I_NTOTAL), vs[8];
                for (int q = 0; q < nt; q++)
                    for (int k = 0, n = use_stands_for(c, fn, iopnd(c, i, q), vs, 0, 0); k < n; k++) {
                        int v = vs[k];
                        if (!live[v]) {
                            live[v] = 1;
                            stackv[sp++] = v;
                            count++;
                            cf += fp[v];
                        }
                    }
            }
            if (count > most) most = count;
            if (count - cf > most_g) most_g = count - cf;
            if (cf > most_f) most_f = cf;
            over_g += count - cf > 15 ? count - cf - 15 : 0;
            over_f += cf > 16 ? cf - 16 : 0;
        }
        while (sp) live[stackv[--sp]] = 0;
    }
#undef BIT
#undef SETBIT
    row[C_lo_pressure] = (double)most;
    row[C_lo_live_across_max] = (double)across_max;
    row[C_lo_live_across_sum] = (double)across_sum;
    row[C_lo_pressure_gpr] = (double)most_g;
    row[C_lo_pressure_fp] = (double)most_f;
    row[C_lo_across_gpr_max] = (double)gx_max;
    row[C_lo_across_fp_max] = (double)fx_max;
    row[C_lo_across_fp_sum] = (double)fx_sum;
    row[C_lo_across_gpr_excess] = (double)gx_excess;
    row[C_lo_over_gpr] = (double)over_g;
    row[C_lo_over_fp] = (double)over_f;
    return 1;
}

/* the values live across each call of lo_calls in the linear layout (pressure()'s live ranges: from the
 * definition to the last use, loops included), for functions too large for exact_liveness() */
static void linear_live_across(ctx *c, const fn_t *fn, int ncalls, double *row) {
    int nv = fn->na + fn->ni;
    memset(c->lo_diff, 0, sizeof *c->lo_diff * (size_t)(ncalls + 1));
    for (int v = 0; v < nv; v++) {
        /* an alloca is a frame slot: its address is rebuilt from the stack pointer, not kept */
        if (!c->used[v] || (v >= fn->na && iop(c, fn->i0 + v - fn->na) == OPS.alloca_)) continue;
        int64_t start = v < fn->na ? -1 : v - fn->na, end = c->vend[v];
        int lo = 0, hi = ncalls;
        while (lo < hi) {   /* the first call after start */
            int m = (lo + hi) / 2;
            if (c->lo_calls[m] > start) hi = m;
            else lo = m + 1;
        }
        int a = lo;
        hi = ncalls;
        while (lo < hi) {   /* the first call at or after end */
            int m = (lo + hi) / 2;
            if (c->lo_calls[m] >= end) hi = m;
            else lo = m + 1;
        }
        if (a < lo) {
            c->lo_diff[a]++;
            c->lo_diff[lo]--;
        }
    }
    int64_t live = 0, most = 0, sum = 0;
    for (int k = 0; k < ncalls; k++) {
        live += c->lo_diff[k];
        sum += live;
        if (live > most) most = live;
    }
    row[C_lo_live_across_max] = (double)most;
    row[C_lo_live_across_sum] = (double)sum;
}

/* ------------------------------------------------------------------ encoding sizes (lo.disp*, lo.imm*) */
/* bytes of a type in memory: its bits rounded up (structs without padding, as compute_bits) */
static int64_t type_bytes(const ctx *c, int32_t t) {
    uint32_t ignored = 0;
    i128 b = bits(c, resolve(c, t, NULL), &ignored);
    return b > ((i128)1 << 60) ? (int64_t)1 << 57 : (int64_t)((b + 7) / 8);
}

/* the constant byte offset GEP `i` adds to its base; a variable index is the addressing mode's index
 * register and adds nothing here.  Summed in 128 bits and clamped to +-2^40 (only its size class is
 * read).  Returns 0 where an index walks into a type it cannot follow. */
static int gep_offset(const ctx *c, int i, int64_t *off) {
    int nops = COL(c, LLP_INSTS, i, I_NOPS);
    int32_t t = COL(c, LLP_INSTS, i, I_AUX);
    const int32_t *tl = c->t[LLP_TYPELIST].r;
    int ntl = c->t[LLP_TYPELIST].n;
    uint32_t ignored = 0;
    const i128 cap = (i128)1 << 40;
    i128 sum = 0;
    for (int q = 1; q < nops && sum < cap && sum > -cap; q++) {
        i128 v = 0;
        int known = const_int(c, iopnd(c, i, q), &v, &ignored);
        if (q > 1) t = resolve(c, t, NULL);
        if (q > 1 && tkind(c, t) == LLP_T_STRUCT) {
            int lo = COL(c, LLP_TYPES, t, T_LOFF), ln = COL(c, LLP_TYPES, t, T_LLEN);
            if (!known || v < 0 || v >= ln || lo < 0 || lo + ln > ntl) return 0;
            for (int k = 0; k < (int)v && sum < cap; k++) sum += type_bytes(c, tl[lo + k]);
            t = tl[lo + (int)v];
            continue;
        }
        if (q > 1) {
            if (tkind(c, t) != LLP_T_ARRAY && tkind(c, t) != LLP_T_VECTOR) return 0;
            t = ta(c, t);
        }
        if (known && v > -cap && v < cap) sum += v * (i128)type_bytes(c, t);   /* < 2^98: no overflow */
    }
    *off = (int64_t)(sum > cap ? cap : sum < -cap ? -cap : sum);
    return 1;
}

/* a global, a function or a constant expression over one: RIP-relative on x86-64 */
static int is_symbol(const ctx *c, int32_t v) {
    int pc = pyclass(c, v);
    return pc == PY_GVAR || pc == PY_FUNC || pc == PY_ALIAS || pc == PY_IFUNC
           || (pc == PY_CONST && ckind(c, v) == LLP_C_EXPR);
}

/* ------------------------------------------------------------------ symbols reached through the GOT */
/* whether the header words of s[0, n) (hdr_tokens, as read_header reads a function's) keep a symbol in
 * this object: dso_local, a local linkage or a visibility.  A global's words stop at its kind, before
 * its type and initializer; the words that matter come first, so 64 tokens are enough */
static int has_local_word(const char *s, int n, int stop_at_kind) {
    static const char *const local[] = {"dso_local", "internal", "private", "hidden", "protected", NULL};
    static const char *const kinds[] = {"global", "constant", "alias", "ifunc", NULL};
    span tk[64];
    int nt = hdr_tokens(s, n, tk, 64);
    for (int k = 0; k < nt; k++) {
        for (int q = 0; stop_at_kind && kinds[q]; q++)
            if (tok_is(s, tk[k], kinds[q])) return 0;
        for (int q = 0; local[q]; q++)
            if (tok_is(s, tk[k], local[q])) return 1;
    }
    return 0;
}

/* a symbol clang did not mark dso_local (nor gave a local linkage or a hidden/protected visibility)
 * may be preempted at load time, and llc-22 takes its address from the GOT (movq sym@GOTPCREL(%rip),
 * %reg) whatever the relocation model: clang marks every symbol of -fno-pic code dso_local, and in
 * PIC and PIE code exactly those it may bind locally */
static void preemptible_symbols(ctx *c) {
    int nf = c->t[LLP_FUNCS].n, ng = c->t[LLP_GLOBALS].n;
    for (int f = 0; f < nf; f++) {
        int32_t off = COL(c, LLP_FUNCS, f, F_OFF), name = COL(c, LLP_FUNCS, f, F_NAMEOFF);
        if (off < 0 || name < off || !in_src(c, off, name - off) || is_intrinsic(c, f)) continue;
        c->fpre[f] = !has_local_word(c->src + off, name - off, 0);
    }
    for (int g = 0; g < ng; g++) {
        int32_t at = COL(c, LLP_GLOBALS, g, G_NAMEOFF) + COL(c, LLP_GLOBALS, g, G_NAMELEN);
        int32_t end = COL(c, LLP_GLOBALS, g, G_END);
        if (at < 0 || end < at || !in_src(c, at, end - at)) continue;
        const char *s = c->src + at;
        int n = end - at, eq = 0;
        while (eq < n && s[eq] != '=') eq++;
        if (eq == n) continue;
        c->gpre[g] = !has_local_word(s + eq + 1, n - eq - 1, 1);
    }
}

/* the symbol a constant operand addresses (through casts and constant GEPs), else -1 */
static int32_t symbol_base(const ctx *c, int32_t v) {
    for (int step = 0; step < 8; step++) {
        int pc = pyclass(c, v);
        if (pc == PY_GVAR || pc == PY_ALIAS || pc == PY_FUNC || pc == PY_IFUNC) return v;
        if (pc != PY_CONST || ckind(c, v) != LLP_C_EXPR) return -1;
        int i = vindex(c, v);
        int32_t st = COL(c, LLP_CONSTS, i, C_OPSTART), n = COL(c, LLP_CONSTS, i, C_OPCOUNT);
        if (n <= 0 || st < 0 || st + n > c->t[LLP_OPERANDS].n) return -1;
        v = cop(c, v, 0);
    }
    return -1;
}

/* lo.got: the preemptible symbols whose address the function takes (a direct call's callee goes
 * through the PLT instead, at no extra instruction); llc loads each one's GOT entry once or so per
 * function (MachineCSE, MachineLICM), so they count once.  A column of its own: lo.est and lo.bytes
 * leave it out (folding it in bought 0.02 points of .text in CV: research/realcode_got) */
static void count_got(ctx *c, const fn_t *fn, int i, int op, int nops, double *row) {
    int callee = (OPS.flags[op] & OPF_CALL) ? COL(c, LLP_INSTS, i, I_NTOTAL) - 1 : -1;
    for (int q = 0; q < nops; q++) {
        if (q == callee) continue;
        int32_t s = symbol_base(c, iopnd(c, i, q));
        if (s < 0) continue;
        int r = vindex(c, s);
        int32_t *mark;
        if (pyclass(c, s) == PY_FUNC) {
            if (!c->fpre[r]) continue;
            mark = &c->fgot[r];
        } else {
            if (!c->gpre[r]) continue;
            mark = &c->ggot[r];
        }
        if (*mark == fn->f + 1) continue;
        *mark = fn->f + 1;
        row[C_lo_got] += 1;
    }
}

/* the displacement an address needs, as lo.disp8 / lo.disp32 / lo.rip / none: a GEP's constant
 * offset (or a frame slot's, on the alloca it indexes) in 8 or 32 bits, a symbol's 32 */
static int addr_disp_col(const ctx *c, const fn_t *fn, int32_t addr) {
    int64_t off = 0;
    int32_t base = addr;
    if (is_op(c, addr, OPS.gep)) {
        int g = vindex(c, addr);
        if (!gep_offset(c, g, &off)) return -1;
        base = iopnd(c, g, 0);
    }
    if (is_symbol(c, base)) return C_lo_rip;
    int v = local_value(c, fn, base);
    if (v >= fn->na && iop(c, fn->i0 + v - fn->na) == OPS.alloca_) off += c->lo_slot[v - fn->na];
    if (off == 0) return -1;
    return off >= -128 && off < 128 ? C_lo_disp8 : C_lo_disp32;
}

/* integer constants by how x86-64 encodes them: an ALU or compare operand in 8 bits or 32, and one
 * a mov must put in a register or in memory (store, call argument, phi, select, ret: 32 bits) */
static void count_immediates(const ctx *c, int i, int op, int nops, double *row) {
    uint32_t ignored = 0;
    if (op == OPS.gep || op == OPS.alloca_ || op == OPS.sw) return;
    int alu = !(OPS.flags[op] & OPF_CALL) && op != OPS.store && op != OPS.phi && op != OPS.select && op != OPS.ret;
    if (OPS.flags[op] & OPF_CALL) {
        int f = callee_func(c, i), len = 0;
        const char *s = f >= 0 ? fname(c, f, &len) : "";
        if (starts(s, len, "llvm.")) return;   /* an intrinsic's constants are flags and lengths */
    }
    for (int q = 0; q < nops; q++) {
        i128 v;
        if (!const_int(c, iopnd(c, i, q), &v, &ignored) || v == 0) continue;
        if (v > (i128)1 << 31 || v < -((i128)1 << 31)) continue;   /* lo.big_consts */
        if (!alu) row[C_lo_imm_mov] += 1;
        else row[v >= -128 && v < 128 ? C_lo_imm8 : C_lo_imm32] += 1;
    }
}

static uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ull;
}

/* the CRC of src[off, end) (0 for a span outside the source) */
static uint64_t text_crc(const ctx *c, int off, int end) {
    return in_src(c, off, end - off) ? crc_reg(0, c->src + off, (size_t)(end - off)) : 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Blocks of two or more instructions that repeat an earlier block of the function up to the names of
 * their own values (the same opcodes, flags, types and predicates, the same operands from outside
 * the block, the same successors): llc's tail merging keeps one of them (bison's yydestruct: 31 switch
 * cases with one body, 157 IR instructions, 11 machine instructions). */
static int dup_blocks(ctx *c, const fn_t *fn) {
    if (fn->nb < 3) return 0;
    NEED(lo_bhash, fn->nb);
    uint64_t *hs = c->lo_bhash;
    int n = 0;
    for (int b = 0; b < fn->nb; b++) {
        int brow = fn->b0 + b, i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        if (ni < 2) continue;
        uint64_t h = (uint64_t)ni;
        for (int i = i0; i < i0 + ni; i++) {
            int op = iop(c, i);
            h = mix64(h, (uint64_t)op);
            h = mix64(h, (uint64_t)(uint32_t)COL(c, LLP_INSTS, i, I_FLAGS));
            h = mix64(h, (uint64_t)(uint32_t)COL(c, LLP_INSTS, i, I_TYPE));
            int key = COL(c, LLP_INSTS, i, I_KEY);
            if (op == OPS.icmp || op == OPS.fcmp_) {   /* the key is the predicate's offset: its word */
                int e = key;
                while (e >= 0 && (size_t)e < c->len && c->src[e] > ' ' && c->src[e] != ',') e++;
                h = mix64(h, text_crc(c, key, e));
            } else if (op == OPS.alloca_ || op == OPS.gep) {
                h = mix64(h, (uint64_t)(uint32_t)COL(c, LLP_INSTS, i, I_AUX));   /* the allocated / indexed type */
            }
            int nt = COL(c, LLP_INSTS, i, I_NTOTAL);
            for (int k = 0; k < nt; k++) {
                int32_t v = c->t[LLP_OPERANDS].r[COL(c, LLP_INSTS, i, I_OPSTART) + k];
                int kind = v >= 0 ? COL(c, LLP_VALUES, v, V_KIND) : -1;
                if (kind == LLP_V_INST && COL(c, LLP_INSTS, vindex(c, v), I_BLOCK) == COL(c, LLP_INSTS, i, I_BLOCK))
                    h = mix64(h, 1 + 4 * (uint64_t)(vindex(c, v) - i0));   /* a value of this block: by position */
                else if (kind == LLP_V_CONST)
                    h = mix64(h, 2 + 4 * text_crc(c, COL(c, LLP_CONSTS, vindex(c, v), C_OFF),
                                                  COL(c, LLP_CONSTS, vindex(c, v), C_END)));
                else
                    h = mix64(h, 3 + 4 * (uint64_t)(uint32_t)v);
            }
        }
        hs[n++] = h;
    }
    qsort(hs, (size_t)n, sizeof *hs, cmp_u64);
    int dup = 0;
    for (int k = 1; k < n; k++) dup += hs[k] == hs[k - 1];
    return dup;
}

/* x86-64 code runs about 4 bytes per instruction: the scale of lo_bpos */
#define BYTES_PER_OP 4.0

/* branches too far for a rel8 (jcc 2 -> 6 bytes, jmp 2 -> 5), the blocks laid out in IR order, each as
 * long as lowering() estimates: a branch to the next block falls through, a conditional one whose
 * targets are both elsewhere is a jcc and a jmp */
static double long_branches(const ctx *c, const fn_t *fn) {
    double n = 0;
    for (int b = 0; b < fn->nb; b++) {
        int brow = fn->b0 + b, ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        if (!ni) continue;
        int t = COL(c, LLP_BLOCKS, brow, B_ISTART) + ni - 1, nops = COL(c, LLP_INSTS, t, I_NOPS);
        if (iop(c, t) != OPS.br) continue;
        for (int q = nops == 3 ? 1 : 0; q < nops; q++) {
            int to = local_block(c, fn, iopnd(c, t, q));
            if (to < 0 || to == b + 1) continue;
            /* from the end of block b: forward to the start of `to`, backward to it */
            double d = to > b ? c->lo_bpos[to] - c->lo_bpos[b + 1] : c->lo_bpos[b + 1] - c->lo_bpos[to];
            n += d > 120;
        }
    }
    return n;
}

/* the lo.* columns but lo.ssp and lo.bytes (lowering_finish() adds them once the attributes are read) */
static int lowering(ctx *c, const fn_t *fn, int npo, double *row) {
    int nv = fn->na + fn->ni;
    NEED(lo_nuse, nv);
    NEED(lo_user, nv);
    NEED(lo_uflag, nv);
    NEED(lo_calls, fn->ni);
    NEED(lo_diff, fn->ni + 1);
    memset(c->lo_nuse, 0, sizeof *c->lo_nuse * (size_t)nv);
    memset(c->lo_uflag, 0, (size_t)nv);
    for (int v = 0; v < fn->na; v++) c->lo_uflag[v] = U_OTHER_BLOCK;   /* arguments arrive in registers */
    for (int i = fn->i0; i < fn->i0 + fn->ni; i++) {
        int op = iop(c, i), ub = COL(c, LLP_INSTS, i, I_BLOCK), nt = COL(c, LLP_INSTS, i, I_NTOTAL);
        for (int q = 0; q < nt; q++) {
            int v = local_value(c, fn, iopnd(c, i, q));
            if (v < 0) continue;
            c->lo_nuse[v]++;
            c->lo_user[v] = i;
            if (op != OPS.load && op != OPS.store) c->lo_uflag[v] |= U_NOT_LDST;
            if (op != OPS.br && op != OPS.select) c->lo_uflag[v] |= U_NOT_BRSEL;
            if (v >= fn->na && COL(c, LLP_INSTS, fn->i0 + v - fn->na, I_BLOCK) != ub) c->lo_uflag[v] |= U_OTHER_BLOCK;
        }
    }
    NEED(lo_slot, fn->ni);
    int64_t frame_off = 0;
    for (int k = 0; k < fn->ni; k++) {
        int i = fn->i0 + k;
        c->lo_slot[k] = frame_off;
        if (iop(c, i) == OPS.alloca_) {
            int64_t b = type_bytes(c, COL(c, LLP_INSTS, i, I_AUX));
            if (b < ((int64_t)1 << 40) && frame_off < ((int64_t)1 << 50)) frame_off += (b + 7) / 8 * 8;
        }
    }
    double base = 0, calls = 0, mem = 0, sw = 0;
    uint32_t ignored = 0;   /* a constant past 128 bits: walk_features already says so */
    int ncalls = 0, alloca = 0;
    NEED(lo_bpos, fn->nb + 1);
    for (int b = 0; b < fn->nb; b++) {
        int brow = fn->b0 + b, i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        int nonphi = 0, only = -1;
        c->lo_bpos[b] = BYTES_PER_OP * base;
        for (int i = i0; i < i0 + ni; i++) {
            int op = iop(c, i), nops = COL(c, LLP_INSTS, i, I_NOPS), nt = COL(c, LLP_INSTS, i, I_NTOTAL);
            int k = i - fn->i0;
            double cost = (OPS.lo[op] & (LO_FREE | LO_ZERO)) ? 0 : 1;
            if (op != OPS.phi) {
                nonphi++;
                only = op;
            }
            if (OPS.lo[op] & LO_FREE) {
                row[C_lo_free_casts] += 1;
            } else if (OPS.flags[op] & OPF_CALL) {
                int f = callee_func(c, i), len = 0;
                const char *s = f >= 0 ? fname(c, f, &len) : "";
                if (is_free_intrinsic(s, len)) {
                    row[C_lo_free_intrinsics] += 1;
                    cost = 0;
                } else if (starts(s, len, "llvm.va_start")) {
                    row[C_lo_vararg] = 15;   /* the register save area of a varargs function */
                    cost = 0;
                } else if (f >= 0 && (c->fkind[f] & NK_MEMINTR)) {
                    i128 m;
                    int set = (c->fkind[f] & NK_MEMSET) != 0;
                    if (COL(c, LLP_INSTS, i, I_NARGS) > 2 && const_int(c, iopnd(c, i, 2), &m, &ignored) && m >= 0
                        && m <= 128) {
                        /* inline: a 16-byte register stored (memset) or loaded and stored per chunk */
                        int64_t chunks = ((int64_t)m + 15) / 16;
                        cost = (double)(chunks > 1 ? chunks : 1) * (set ? 1 : 2) + set;
                    } else {
                        cost = 4;   /* a call to the library's memcpy */
                        c->lo_calls[ncalls++] = k;
                        /* in tail position llc makes it a jmp, as any tail call (`jmp memcpy@PLT`, no frame):
                         * counted apart (lo.mem_tail), lo.est keeping the call in a frame */
                        if (tail_call_at(c, fn, i, op, brow)) row[C_lo_mem_tail] += 1;
                    }
                    mem += cost;
                } else if (starts(s, len, "llvm.smax") || starts(s, len, "llvm.smin") || starts(s, len, "llvm.umax")
                           || starts(s, len, "llvm.umin") || starts(s, len, "llvm.abs")) {
                    row[C_lo_minmax] += 1;
                    cost = 2;   /* cmp + cmov */
                } else if (!starts(s, len, "llvm.")) {
                    int nargs = COL(c, LLP_INSTS, i, I_NARGS), mv = moved_arguments(c, fn, i);
                    row[C_lo_call_args] += nargs;
                    row[C_lo_stack_args] += nargs > 6 ? nargs - 6 : 0;
                    row[C_lo_moved_args] += mv;
                    if (tail_call_at(c, fn, i, op, brow)) {
                        row[C_lo_tail_calls] += 1;   /* call + ret become one jmp, counted at the ret */
                        cost = mv;
                    } else {
                        row[C_lo_calls] += 1;
                        cost = 1 + mv + (op == OPS.invoke);
                        c->lo_calls[ncalls++] = k;
                    }
                    calls += cost;
                }
            } else if (op == OPS.gep) {
                int v = fn->na + k;
                if (c->lo_nuse[v] && !(c->lo_uflag[v] & (U_NOT_LDST | U_OTHER_BLOCK))) {   /* an addressing mode of its loads and stores */
                    row[C_lo_gep_folded] += 1;
                    cost = 0;
                }
            } else if (op == OPS.zext || op == OPS.sext) {
                int32_t src = nops ? iopnd(c, i, 0) : -1, st = obj_type(c, src);
                int w = tkind(c, st) == LLP_T_INT ? ta(c, st) : 0;
                row[C_lo_zext_i1] += op == OPS.zext && w == 1;
                /* a 32-bit write zeroes the upper half; a load extends as it reads */
                if ((op == OPS.zext && w == 32) || is_op(c, src, OPS.load)) {
                    row[C_lo_zext_free] += 1;
                    cost = 0;
                }
            } else if (op == OPS.icmp || op == OPS.fcmp_) {
                int u = sole_local_user(c, fn, i);
                if (u >= 0 && (iop(c, u) == OPS.br || iop(c, u) == OPS.select)) row[C_lo_cmp_fused] += 1;
                else {
                    row[C_lo_cmp_unfused] += 1;
                    cost = 2;   /* cmp + setcc */
                }
            } else if (op == OPS.load) {
                int u = sole_local_user(c, fn, i);
                if (u >= 0 && (OPS.lo[iop(c, u)] & LO_FOLD)) {
                    row[C_lo_load_folded] += 1;
                    cost = 0;
                }
            } else if (op == OPS.alloca_) {
                int32_t at = COL(c, LLP_INSTS, i, I_AUX);
                alloca |= 1;
                if (tkind(c, at) == LLP_T_ARRAY) alloca |= 2;
                cost = 0;
            } else if (op == OPS.br) {
                if (nops == 1 && local_block(c, fn, iopnd(c, i, 0)) == b + 1) {
                    row[C_lo_br_fallthrough] += 1;
                    cost = 0;
                }
            } else if (op == OPS.sw) {
                int n = nt - nops;   /* the case values */
                cost = n <= 3 ? 2 * n : 5;   /* compare-and-branch chains, else a jump table */
                row[C_lo_switch_cases] += n;
                sw += cost;
            } else if (op == OPS.ret) {
                row[C_lo_rets] += 1;
            } else if (op == OPS.select) {
                cost = 1.5;
            } else if (OPS.lo[op] & LO_DIV) {
                int32_t t = COL(c, LLP_INSTS, i, I_TYPE);
                if (nops > 1 && pyclass(c, iopnd(c, i, 1)) == PY_CONST) {
                    row[C_lo_div_const] += 1;   /* multiply by the reciprocal and shift */
                    cost = 4;
                } else if (tkind(c, t) == LLP_T_INT && ta(c, t) == 64) {
                    row[C_lo_div_var64] += 1;   /* the 32-bit fast path check and both divides */
                    cost = 10;
                } else {
                    cost = 4;
                }
            } else if (op == OPS.store) {
                row[C_lo_const_stores] += nops && pyclass(c, iopnd(c, i, 0)) == PY_CONST;
            }
            count_immediates(c, i, op, nops, row);
            count_got(c, fn, i, op, nops, row);
            if ((op == OPS.load && nops >= 1) || (op == OPS.store && nops >= 2)) {
                int col = addr_disp_col(c, fn, iopnd(c, i, op == OPS.load ? 0 : 1));
                if (col >= 0) row[col] += 1;
            } else if (op == OPS.gep && cost > 0) {   /* a lea of its own */
                int col = addr_disp_col(c, fn, COL(c, LLP_INSTS, i, I_VID));
                if (col >= 0) row[col] += 1;
            }
            for (int q = 0; q < nops; q++) {
                i128 v;
                if (const_int(c, iopnd(c, i, q), &v, &ignored) && (v > (i128)1 << 31 || v < -((i128)1 << 31)))
                    row[C_lo_big_consts] += 1;   /* a movabs of its own */
            }
            base += cost;
        }
        row[C_lo_empty_blocks] += nonphi == 1 && only == OPS.br;
    }
    c->lo_bpos[fn->nb] = BYTES_PER_OP * base;
    row[C_lo_long_branches] = long_branches(c, fn);
    int dup = dup_blocks(c, fn);
    if (dup < 0) return -1;
    row[C_lo_dup_blocks] = dup;
    /* callee-saved registers: one push and one pop for each value live across a call, at most six */
    double csr = 0, frame = 0;
    int exact = exact_liveness(c, fn, npo, ncalls, row);
    if (exact < 0) return -1;
    if (!exact)   /* the register-file split needs the exact sets: unknown for giant functions */
        for (int k = C_lo_pressure_gpr; k <= C_lo_over_fp; k++) row[k] = NAN;
    if (ncalls) {
        if (!exact) linear_live_across(c, fn, ncalls, row);
        /* FP values take no callee-saved register: only the GPR values live across a call push one */
        double across = exact ? row[C_lo_across_gpr_max] : row[C_lo_live_across_max];
        int n = across < 6 ? (int)across : 6;
        csr = 2.0 * n;
        if (n % 2 == 0) frame += 2;   /* the stack stays 16-byte aligned at calls: one more push/pop */
    } else if (alloca) {
        frame += 2;   /* sub/add rsp */
    }
    row[C_lo_csr] = csr;
    row[C_lo_frame] = frame;
    row[C_lo_call_cost] = calls;
    row[C_lo_mem_inline] = mem;
    row[C_lo_switch_cost] = sw;
    row[C_lo_est] = base + row[C_lo_vararg] + csr + frame;
    c->lo_alloca = alloca;
    return 0;
}

/* the rest of the lo.* columns once the attributes are read: a stack protector's canary load, store and
 * check, where the attribute asks for one; and lo.bytes, the machine code's size: x86-64 encodings
 * differ by kind (a ret is 1 byte, a push 1-2, a call 5, a movabs 10, a 32-bit displacement or
 * immediate 3 more than an 8-bit one, a rel32 branch 3-4 more than a rel8), and each loop header is
 * padded to 16 bytes.  The prices are a least-squares fit (relative error) on the training packages of
 * the real-code corpus, so they also price each other's overlap: an 8-bit immediate below zero because
 * x.const_int_operands already charges every constant.  On the corpus's test packages lo.bytes alone is
 * 17.7% off .text (19.4% without the displacement, immediate and branch kinds); the best constant x
 * lo.est fitted on those packages themselves is 23% off. */
static void lowering_finish(const ctx *c, double *row) {
    int ssp = c->attr_last.ssp, a = c->lo_alloca;
    if (ssp && ((a & 2) || (ssp == 3 && a))) {
        row[C_lo_ssp] = 6;
        row[C_lo_est] += 6;
    }
    double push = row[C_lo_csr] + row[C_lo_frame], calls = row[C_lo_calls] + row[C_lo_tail_calls];
    double other = row[C_lo_est] - push - row[C_lo_rets] - calls - row[C_lo_moved_args] - row[C_lo_ssp]
                   - row[C_lo_vararg] - row[C_ir_op_phi] - row[C_ir_op_br];
    row[C_lo_bytes] = 2.99 * other + 2.39 * push + 1.08 * row[C_lo_rets] + 6.14 * calls + 4.54 * row[C_lo_moved_args]
                      + 7.79 * row[C_lo_ssp] + 7.88 * row[C_lo_vararg] + 4.77 * row[C_ir_op_phi] + 2.91 * row[C_ir_op_br]
                      + 1.99 * row[C_x_const_int_operands] + 0.76 * row[C_ir_op_store] - 0.11 * row[C_ir_op_load]
                      + 8.30 * row[C_ir_cfg_loops] - 1.92 * row[C_lo_disp8] + 1.16 * row[C_lo_disp32] + 2.80 * row[C_lo_rip]
                      - 3.10 * row[C_lo_imm8] - 0.92 * row[C_lo_imm32] + 0.48 * row[C_lo_imm_mov]
                      + 5.38 * row[C_lo_long_branches];
}

/* ------------------------------------------------------------------ one function */
static int back_edges(ctx *c, int nb) {
    NEED(seen, nb);
    NEED(stack, 2 * nb + 2);
    memset(c->seen, 0, (size_t)nb + 1);
    int count = 0;
    c->seen[0] = 1;     /* 1 on the walk's path, 2 finished */
    dfs_t w;
    dfs_begin(&w, c->stack, c->succ_off, c->succ);
    int ev, node, ch;
    while ((ev = dfs_next(&w, &node, &ch)) >= 0) {
        if (!ev) c->seen[node] = 2;
        else if (c->seen[ch] == 1) count++;
        else if (c->seen[ch] == 0) {
            c->seen[ch] = 1;
            dfs_push(&w, ch);
        }
    }
    return count;
}

/* irtools.analysis.features.function_properties */
static void func_properties(ctx *c, const fn_t *fn, double *row, uint32_t *reason) {
    int64_t total = 0;
    for (int b = 0; b < fn->nb; b++) {
        if (!c->reach[b]) continue;
        int brow = fn->b0 + b, i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        int top = ni > 0 ? iop(c, i0 + ni - 1) : -1;
        int nsucc = c->succ_off[b + 1] - c->succ_off[b];
        row[C_ir_fp_BasicBlockCount] += 1;
        if (top == OPS.br && nsucc == 2) row[C_ir_fp_BlocksReachedFromConditionalInstruction] += 2;
        else if (top == OPS.sw) row[C_ir_fp_BlocksReachedFromConditionalInstruction] += nsucc;
        int size = 0;
        for (int i = i0; i < i0 + ni; i++) {
            size += !upgrade_of(c, i).drop;
            int op = iop(c, i);
            if (OPS.flags[op] & OPF_CALL) {
                int f = called_function(c, i, reason);
                if (f >= 0 && !is_intrinsic(c, f) && !COL(c, LLP_FUNCS, f, F_DECL))
                    row[C_ir_fp_DirectCallsToDefinedFunctions] += 1;
            }
            if (op == OPS.load) row[C_ir_fp_LoadInstCount] += 1;
            else if (op == OPS.store) row[C_ir_fp_StoreInstCount] += 1;
        }
        total += size;
        row[C_ir_fp_TotalInstructionCount] = (double)total;
        if (nsucc == 1) row[C_ir_fp_BasicBlocksWithSingleSuccessor] += 1;
        else if (nsucc == 2) row[C_ir_fp_BasicBlocksWithTwoSuccessors] += 1;
        else if (nsucc > 2) row[C_ir_fp_BasicBlocksWithMoreThanTwoSuccessors] += 1;
        int npb = c->pred_off[b + 1] - c->pred_off[b];
        if (npb == 1) row[C_ir_fp_BasicBlocksWithSinglePredecessor] += 1;
        else if (npb == 2) row[C_ir_fp_BasicBlocksWithTwoPredecessors] += 1;
        else if (npb > 2) row[C_ir_fp_BasicBlocksWithMoreThanTwoPredecessors] += 1;
        /* LLVM compares the running total, not this block's size */
        if (total > 500) row[C_ir_fp_BigBasicBlocks] += 1;
        else if (total > 15) row[C_ir_fp_MediumBasicBlocks] += 1;
        else row[C_ir_fp_SmallBasicBlocks] += 1;
        if (nsucc > 1)
            for (int e = c->succ_off[b]; e < c->succ_off[b + 1]; e++) {
                int s = c->succ[e];
                if (c->pred_off[s + 1] - c->pred_off[s] > 1) row[C_ir_fp_CriticalEdgeCount] += 1;
            }
        row[C_ir_fp_ControlFlowEdgeCount] += nsucc;
        if (top == OPS.br) {
            row[C_ir_fp_BranchInstructionCount] += 1;
            if (nsucc == 1) {
                row[C_ir_fp_UnconditionalBranchCount] += 1;
                row[C_ir_fp_BranchSuccessorCount] += 1;
            } else {
                row[C_ir_fp_ConditionalBranchCount] += 1;
                row[C_ir_fp_BranchSuccessorCount] += 2;
            }
        } else if (top == OPS.sw) {
            row[C_ir_fp_SwitchInstructionCount] += 1;
            row[C_ir_fp_SwitchSuccessorCount] += nsucc;
        }
        for (int i = i0; i < i0 + ni; i++) {
            upgrade_t up = upgrade_of(c, i);
            if (up.drop) continue;
            int op = iop(c, i);
            int32_t e, t = resolve(c, COL(c, LLP_INSTS, i, I_TYPE), &e);
            if (tkind(c, t) == LLP_T_FUNC) {   /* `call %FnTy @f()` names the callee's type */
                t = ta(c, t);
                e = tkind(c, t) == LLP_T_VECTOR ? ta(c, t) : -1;
            }
            int tk = tkind(c, t);
            if (OPS.flags[op] & OPF_CAST) row[C_ir_fp_CastInstructionCount] += 1;
            if (is_fp_kind(c, t, FK_FLOAT)) row[C_ir_fp_FloatingPointInstructionCount] += 1;
            else if (tk == LLP_T_INT) row[C_ir_fp_IntegerInstructionCount] += 1;
            int nops = COL(c, LLP_INSTS, i, I_NOPS);
            if (op == OPS.call) {
                int f = called_function(c, i, reason);
                if (f >= 0 && is_intrinsic(c, f)) row[C_ir_fp_IntrinsicCount] += 1;
                int cpc = pyclass(c, callee_of(c, i));
                if (cpc == PY_INST || cpc == PY_ARG) row[C_ir_fp_IndirectCallCount] += 1;
                else row[C_ir_fp_DirectCallCount] += 1;
                if (tk == LLP_T_INT) row[C_ir_fp_CallReturnsIntegerCount] += 1;
                else if (tk == LLP_T_FP) row[C_ir_fp_CallReturnsFloatCount] += 1;
                else if (tk == LLP_T_PTR) row[C_ir_fp_CallReturnsPointerCount] += 1;
                else if (tk == LLP_T_VECTOR) {
                    int ek = tkind(c, e);
                    if (ek == LLP_T_INT) row[C_ir_fp_CallReturnsVectorIntCount] += 1;
                    else if (ek == LLP_T_FP) row[C_ir_fp_CallReturnsVectorFloatCount] += 1;
                    else if (ek == LLP_T_PTR) row[C_ir_fp_CallReturnsVectorPointerCount] += 1;
                }
                int na = COL(c, LLP_INSTS, i, I_NARGS);
                if (na - (up.skip >= 0) + up.add_cint + up.add_null > 4) row[C_ir_fp_CallWithManyArgumentsCount] += 1;
                if (up.add_null) row[C_ir_fp_CallWithPointerArgumentCount] += 1;
                for (int k = 0; k < na && !up.add_null; k++) {
                    if (k == up.skip) continue;
                    int32_t a = iopnd(c, i, k);
                    int pc = pyclass(c, a);
                    if (pc == PY_FUNC || pc == PY_GVAR || pc == PY_ALIAS || pc == PY_IFUNC
                        || tkind(c, resolve(c, obj_type(c, a), NULL)) == LLP_T_PTR) {
                        row[C_ir_fp_CallWithPointerArgumentCount] += 1;
                        break;
                    }
                }
            }
            for (int k = 0; k < nops; k++)
                if (k != up.skip) row[operand_class(c, iopnd(c, i, k), reason)] += 1;
            row[OC_CINT] += up.add_cint;
            row[OC_CONST] += up.add_null;
        }
    }
}

/* opcode and type histograms, CFG and loop shape, arguments (feature_vector's own keys) */
static void shape_features(ctx *c, const fn_t *fn, int npo, double *row) {
    for (int b = 0; b < fn->nb; b++) {
        int brow = fn->b0 + b, i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        int inloop = c->reach[b] && c->loop_for[b] >= 0;
        for (int i = i0; i < i0 + ni; i++) {
            if (is_debug_call(c, i)) continue;
            int op = iop(c, i);
            if (OPS.llvm[op] >= 0) row[C_ir_op_ret + OPS.llvm[op]] += 1;
            row[C_ir_ty_void + type_category(c, COL(c, LLP_INSTS, i, I_TYPE))] += 1;
            row[C_ir_fn_phis] += op == OPS.phi;
            if (inloop) {
                row[C_ir_fn_instructions_in_loops] += 1;
                row[C_ir_fn_memory_ops_in_loops] += op == OPS.load || op == OPS.store;
                row[C_ir_fn_calls_in_loops] += (OPS.flags[op] & OPF_CALL) != 0;
            }
        }
    }
    int maxblocks = 0, maxdepth = 0, ntop = 0, maxlevel = 0;
    for (int l = 0; l < c->nloops; l++) {
        if ((int)c->loops[l].blocks.n > maxblocks) maxblocks = (int)c->loops[l].blocks.n;
        if (c->loops[l].depth > maxdepth) maxdepth = c->loops[l].depth;
        ntop += c->loops[l].parent < 0;
    }
    for (int b = 0; b < fn->nb; b++)
        if (c->level[b] > maxlevel) maxlevel = c->level[b];
    row[C_ir_fp_TopLevelLoopCount] = ntop;
    row[C_ir_fp_MaxLoopDepth] = maxdepth;
    row[C_ir_cfg_blocks_total] = fn->nb;
    row[C_ir_cfg_unreachable_blocks] = fn->nb - npo;
    row[C_ir_cfg_loops] = c->nloops;
    row[C_ir_cfg_max_loop_blocks] = maxblocks;
    row[C_ir_cfg_domtree_depth] = maxlevel;
    row[C_ir_cfg_back_edges] = fn->nb ? back_edges(c, fn->nb) : 0;
    row[C_ir_fn_arguments] = fn->na;
    for (int a = 0; a < fn->na; a++) row[C_ir_fn_pointer_arguments] += tkind(c, COL(c, LLP_ARGS, fn->a0 + a, A_TYPE)) == LLP_T_PTR;
    int32_t fty = COL(c, LLP_FUNCS, fn->f, F_TYPE);
    row[C_ir_fn_is_vararg] = tkind(c, fty) == LLP_T_FUNC && tb_(c, fty) ? 1.0 : 0.0;
}

static int add_callsite(ctx *c, int f, double w) {
    if (!grow((void **)&c->csite_name, &c->cap_csite_name, c->ncsite + 1, sizeof *c->csite_name)
        || !grow((void **)&c->csite_w, &c->cap_csite_w, c->ncsite + 1, sizeof *c->csite_w))
        return -1;
    c->csite_name[c->ncsite] = f;
    c->csite_w[c->ncsite++] = w;
    return 0;
}

static void upd_max(double *x, double v) {
    if (v > *x) *x = v;
}

/* _machine_ops for the three native vector widths, weighted by the block's trip product;
 * kind and memn: the callee's name kind and an llvm.mem* call's length, as the walk read them */
static void machine_ops(ctx *c, int i, int op, int32_t t, int vec, int kind, u128 memn, double w,
                        uint32_t *reason) {
    static const int64_t native[3] = {128, 256, 512};
    if (vec) {
        i128 b = bits(c, t, reason);
        if ((op == OPS.icmp || op == OPS.fcmp_) && COL(c, LLP_INSTS, i, I_NOPS) > 0) {
            int32_t ot = obj_type(c, iopnd(c, i, 0));
            b = ot >= 0 ? bits(c, ot, reason) : b;
        }
        for (int k = 0; k < 3; k++) {
            i128 n = (b + native[k] - 1) / native[k];
            c->est_machine[k] += w * (double)(n > 1 ? n : 1);
        }
        return;
    }
    if (kind & NK_MEMINTR) {
        for (int k = 0; k < 3; k++) {
            u128 bytes = (u128)native[k] / 8, regs = memn / bytes + (memn % bytes != 0);
            c->est_machine[k] += w * (double)(1 + regs * ((kind & NK_MEMSET) ? 1 : 2));
        }
        return;
    }
    for (int k = 0; k < 3; k++) c->est_machine[k] += w;
}

/* the byte count of an llvm.memset/memcpy/memmove call: its length operand read as the unsigned
 * integer LLVM sees (i64 -1 is 2^64 - 1 bytes), 256 when it is no constant */
static u128 mem_length(const ctx *c, int i, uint32_t *reason) {
    i128 v;
    if (COL(c, LLP_INSTS, i, I_NARGS) <= 2) return 256;
    int32_t a = iopnd(c, i, 2);
    if (!const_int(c, a, &v, reason)) return 256;
    if (v >= 0) return (u128)v;
    int32_t t = obj_type(c, a);
    int w = tkind(c, t) == LLP_T_INT ? ta(c, t) : 0;
    if (w <= 0 || w > 128) {
        *reason |= R_BIGINT;
        return 0;
    }
    return w == 128 ? (u128)v : ((u128)1 << w) + (u128)v;   /* two's complement in w bits */
}

/* function_features' own walk: trip counts, weights, the x.* and gpu.* counts */
static int walk_features(ctx *c, const fn_t *fn, double *row, uint32_t *reason) {
    NEED(weight, fn->nb);
    NEED(block_end, fn->nb);
    NEED(ulist, fn->ni);
    for (int b = 0; b < fn->nb; b++) c->weight[b] = 1.0;
    for (int q = 0; q < c->nloops; q++) {
        int l = c->lorder[q];
        double tc;
        if (!trip_count(c, fn, l, &tc, reason)) {
            row[C_x_n_loops_unknown_trip] += 1;
            tc = 16.0;
        } else {
            row[C_x_n_loops_const_trip] += 1;
            upd_max(&row[C_x_max_trip], tc);
        }
        for (size_t k = 0; k < c->loops[l].blocks.n; k++) c->weight[c->loops[l].blocks.a[k]] *= tc;
    }
    double wmax = fn->nb ? c->weight[0] : 1.0;
    for (int b = 1; b < fn->nb; b++)
        if (c->weight[b] > wmax) wmax = c->weight[b];
    row[C_x_log_trip_product_max] = log1p(wmax);

    double est_all = 0, est_mem = 0, est_fp = 0, est_vec = 0, memop = 0;
    c->est_machine[0] = c->est_machine[1] = c->est_machine[2] = 0;
    int64_t chain = 0;
    int p = 0;
    for (int b = 0; b < fn->nb; b++) {
        int brow = fn->b0 + b, i0 = COL(c, LLP_BLOCKS, brow, B_ISTART), ni = COL(c, LLP_BLOCKS, brow, B_ICOUNT);
        int depth = c->loop_for[b] >= 0 ? c->loops[c->loop_for[b]].depth : 0;
        double w = c->weight[b];
        upd_max(&row[C_x_max_block_insts], ni);
        int nphi = 0, prev = -1;
        for (int i = i0; i < i0 + ni; i++) {
            int op = iop(c, i);
            c->ulist[p++] = op;
            int32_t t = COL(c, LLP_INSTS, i, I_TYPE);
            int nops = COL(c, LLP_INSTS, i, I_NOPS);
            int vec = tkind(c, t) == LLP_T_VECTOR;
            if (op == OPS.store) {
                int32_t st = nops > 0 ? obj_type(c, iopnd(c, i, 0)) : -1;
                vec = tkind(c, st) == LLP_T_VECTOR;
                if (vec) t = st;
            }
            if (vec) {
                upd_max(&row[C_x_max_vector_width], tb_(c, t));
                upd_max(&row[C_x_max_vector_bits], (double)bits(c, t, reason));
            }
            int f = -1, kind = 0;
            u128 memn = 0;   /* an llvm.mem* call's length, 256 when not constant */
            if (OPS.flags[op] & OPF_CALL) {
                f = callee_func(c, i);
                kind = f >= 0 ? c->fkind[f] : 0;
                if (kind & NK_MEMINTR) memn = mem_length(c, i, reason);
            }
            est_all += w;
            machine_ops(c, i, op, t, vec, kind, memn, w, reason);
            if (depth) row[depth == 1 ? C_x_insts_depth1 : depth == 2 ? C_x_insts_depth2 : C_x_insts_depth3plus] += 1;
            if (OPS.flags[op] & OPF_FP) {
                row[C_x_fp_ops] += 1;
                est_fp += w;
            } else if (OPS.flags[op] & OPF_INT) {
                row[C_x_int_ops] += 1;
                if (tkind(c, t) == LLP_T_INT && ta(c, t) == 64) row[C_gpu_i64_ops] += 1;
            }
            if (vec) est_vec += w;
            /* straight-line runs of one opcode are what unrolling leaves behind */
            chain = op == prev && op != OPS.phi && op != OPS.gep ? chain + 1 : 0;
            upd_max(&row[C_x_unrolled_chain], (double)chain);
            prev = op;
            if (op == OPS.phi) {
                nphi++;
            } else if (op == OPS.load || op == OPS.store) {
                int load = op == OPS.load;
                est_mem += w;
                row[load ? C_x_vector_loads : C_x_vector_stores] += vec;
                if (depth) row[load ? C_x_loads_in_loops : C_x_stores_in_loops] += 1;
                if (nops < (load ? 1 : 2)) {
                    *reason |= R_SHAPE;
                    continue;
                }
                int32_t ptr = iopnd(c, i, load ? 0 : 1), pt = obj_type(c, ptr);
                int space = tkind(c, pt) == LLP_T_PTR ? ta(c, pt) : 0;
                if (space == 3 || is_shared(c, ptr)) row[C_gpu_shared_accesses] += 1;
                else if (space == 0 || space == 1) row[load ? C_gpu_global_loads : C_gpu_global_stores] += 1;
            } else if (op == OPS.gep) {
                if (nops - 1 >= 2) row[C_x_gep_multi_index] += 1;
                int all = 1;
                for (int k = 1; k < nops; k++) all &= pyclass(c, iopnd(c, i, k)) == PY_CONST;
                row[C_x_gep_const_only] += all;
            } else if (OPS.flags[op] & OPF_CALL) {
                int len = 0;
                if (f >= 0) fname(c, f, &len);
                if (kind & NK_MEMINTR) {
                    row[C_x_n_mem_intrinsics] += 1;
                    memop += w * (double)memn;
                } else if (kind & NK_SREG) {
                    row[C_gpu_special_reg_reads] += 1;
                } else if (kind & NK_BARRIER) {
                    row[C_gpu_barriers] += 1;
                } else if (kind & NK_FMA) {
                    row[C_gpu_fma_ops] += 1;
                    est_fp += w;
                } else if (len && !(kind & NK_LLVM)) {
                    if (add_callsite(c, f, w)) return -1;
                }
            }
            if (op != OPS.phi && op != OPS.br && op != OPS.call && op != OPS.sw)
                for (int k = 0; k < nops; k++) {
                    int32_t o = iopnd(c, i, k);
                    row[C_x_const_int_operands] += pyclass(c, o) == PY_CONST && ckind(c, o) == LLP_C_INT;
                }
        }
        c->block_end[b] = p - 1;
        upd_max(&row[C_x_max_phi_per_block], nphi);
    }
    row[C_x_log_est_dyn_insts] = row[C_x_log_est_dyn_insts_incl] = log1p(est_all);
    row[C_x_log_est_dyn_mem] = log1p(est_mem);
    row[C_x_log_est_dyn_fp] = log1p(est_fp);
    row[C_x_log_est_dyn_vector] = log1p(est_vec);
    row[C_x_log_memop_bytes] = log1p(memop);
    ngrams(c->ulist, p, row);
    return 0;
}

/* the function's rows and ranges, checked against the tables */
static int function_shape(const ctx *c, int f, fn_t *fn) {
    fn->f = f;
    fn->b0 = COL(c, LLP_FUNCS, f, F_BSTART);
    fn->nb = COL(c, LLP_FUNCS, f, F_BCOUNT);
    fn->a0 = COL(c, LLP_FUNCS, f, F_ASTART);
    fn->na = COL(c, LLP_FUNCS, f, F_ACOUNT);
    if (fn->nb < 1 || fn->b0 < 0 || fn->b0 + fn->nb > c->t[LLP_BLOCKS].n || fn->na < 0 || fn->a0 < 0
        || fn->a0 + fn->na > c->t[LLP_ARGS].n)
        return 0;
    fn->i0 = COL(c, LLP_BLOCKS, fn->b0, B_ISTART);
    int next = fn->i0;
    for (int b = fn->b0; b < fn->b0 + fn->nb; b++) {
        if (COL(c, LLP_BLOCKS, b, B_ISTART) != next || COL(c, LLP_BLOCKS, b, B_ICOUNT) < 0) return 0;
        next += COL(c, LLP_BLOCKS, b, B_ICOUNT);
    }
    fn->ni = next - fn->i0;
    if (fn->i0 < 0 || next > c->t[LLP_INSTS].n) return 0;
    for (int i = fn->i0; i < next; i++) {
        int b = COL(c, LLP_INSTS, i, I_BLOCK);
        if (!inst_ok(c, i) || b < fn->b0 || b >= fn->b0 + fn->nb) return 0;
    }
    return 1;
}

/* one defined function's row; returns -1 when memory runs out */
static int featurize(ctx *c, int f, double *row, uint32_t *reason) {
    fn_t fn;
    if (!function_shape(c, f, &fn)) {
        *reason |= R_SHAPE;
        return 0;
    }
    int32_t off = COL(c, LLP_FUNCS, f, F_OFF), end = COL(c, LLP_FUNCS, f, F_END);
    if (!in_src(c, off, end - off)) {
        *reason |= R_SHAPE;
        return 0;
    }
    int npo, rc;
    if (build_cfg(c, &fn, reason) || dfs_postorder(c, fn.nb, &npo) || dominators(c, fn.nb, npo)) return -1;
    rc = find_loops(c, fn.nb, npo);
    if (rc == -1) return -1;
    if (rc) {
        *reason |= R_SHAPE;
        return 0;
    }
    func_properties(c, &fn, row, reason);
    shape_features(c, &fn, npo, row);
    if (walk_features(c, &fn, row, reason) || pressure(c, &fn, row, reason) || lowering(c, &fn, npo, row)) return -1;
    header_info hi;
    if (read_header(c, f, &hi)) return -1;
    row[C_ir_fp_Uses] = (double)(c->uses[f] + (hi.linkage_local ? 0 : 1));
    if (attribute_features(c, &hi, row, reason)) return -1;
    lowering_finish(c, row);
    row[C_x_log_est_machine_ops] = log1p(c->est_machine[row[C_cpu_avx512f] != 0 ? 2 : row[C_cpu_avx] != 0 ? 1 : 0]);
    token_bigrams(c->words, c->src + off, end - off, c->src + c->len, row);
    return 0;
}

/* ------------------------------------------------------------------ module preparation */
static int read_tables(ctx *c, llp_module *m) {
    for (int k = 0; k < LLP_NTABLES; k++) {
        const int32_t *rows = NULL;
        int w = 0;
        int n = llp_table(m, k, &rows, &w);
        c->t[k] = (tab){rows, n > 0 && rows ? n : 0, w};
    }
    c->ttext = llp_typetext(m, &c->ttext_len);
    /* the columns this file reads must be there */
    static const int need[][2] = {{LLP_VALUES, 3}, {LLP_INSTS, 18}, {LLP_BLOCKS, 6}, {LLP_FUNCS, 20},
                                  {LLP_ARGS, 6}, {LLP_GLOBALS, 12}, {LLP_TYPES, 6}, {LLP_TYPELIST, 1},
                                  {LLP_NAMED, 4}, {LLP_CONSTS, 6}, {LLP_OPERANDS, 1}, {LLP_ENTITIES, 7}};
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
        if (c->t[need[k][0]].n && c->t[need[k][0]].w < need[k][1]) return -1;
    return 0;
}

static uint16_t name_kind(const char *s, int n) {
    static const char *const dbg[] = {"llvm.dbg.declare", "llvm.dbg.value", "llvm.dbg.assign", "llvm.dbg.label",
                                      "llvm.dbg.addr", "llvm.pseudoprobe", NULL};
    if (!starts(s, n, "llvm.")) return 0;
    uint16_t k = NK_LLVM;
    for (int i = 0; dbg[i]; i++)
        if (equals(s, n, dbg[i])) k |= NK_DEBUG;
    if (starts(s, n, "llvm.memset") || starts(s, n, "llvm.memcpy") || starts(s, n, "llvm.memmove")) k |= NK_MEMINTR;
    if (starts(s, n, "llvm.memset")) k |= NK_MEMSET;
    if (starts(s, n, "llvm.nvvm.read.ptx.sreg.")) k |= NK_SREG;
    if (starts(s, n, "llvm.nvvm.barrier") || starts(s, n, "llvm.nvvm.bar.")) k |= NK_BARRIER;
    if (starts(s, n, "llvm.fma.") || starts(s, n, "llvm.fmuladd.")) k |= NK_FMA;
    if (starts(s, n, "llvm.smin.") || starts(s, n, "llvm.umin.")) k |= NK_MIN;
    if (starts(s, n, "llvm.lifetime.start") || starts(s, n, "llvm.lifetime.end")) k |= NK_UP_LIFETIME;
    else if (starts(s, n, "llvm.masked.")) {   /* llvm.masked.<op>[.suffix] with the old alignment argument */
        int a = 12, b = a;
        while (b < n && s[b] != '.') b++;
        if (equals(s + a, b - a, "load") || equals(s + a, b - a, "gather")) k |= NK_UP_MASKED;
        else if (equals(s + a, b - a, "store") || equals(s + a, b - a, "scatter")) k |= NK_UP_MASKED | NK_UP_MASK_AT2;
    }
    else if (starts(s, n, "llvm.memcpy.") || starts(s, n, "llvm.memmove.") || starts(s, n, "llvm.memset.")) k |= NK_UP_MEM;
    else if (starts(s, n, "llvm.var.annotation") || starts(s, n, "llvm.ptr.annotation.")) k |= NK_UP_ANNOT;
    else if (starts(s, n, "llvm.ctlz.") || starts(s, n, "llvm.cttz.")) k |= NK_UP_CTLZ;
    else if (starts(s, n, "llvm.objectsize.")) k |= NK_UP_OBJSIZE;
    return k;
}

/* decoded names, the name -> function map, named-type bodies, shared-memory globals */
static int prepare_names(ctx *c, cbuf *gnames, int32_t *goff, int32_t *glen) {
    int nf = c->t[LLP_FUNCS].n, ng = c->t[LLP_GLOBALS].n;
    for (int f = 0; f < nf; f++) {
        c->fname_off[f] = (int32_t)c->names.n;
        int n = decode_name(c, &c->names, COL(c, LLP_FUNCS, f, F_NAMEOFF), COL(c, LLP_FUNCS, f, F_NAMELEN));
        if (n < 0) return -1;
        c->fname_len[f] = n;
    }
    for (int g = 0; g < ng; g++) {
        goff[g] = (int32_t)gnames->n;
        int n = decode_name(c, gnames, COL(c, LLP_GLOBALS, g, G_NAMEOFF), COL(c, LLP_GLOBALS, g, G_NAMELEN));
        if (n < 0) return -1;
        glen[g] = n;
    }
    if (cbuf_add(&c->names, "", 0) || cbuf_add(gnames, "", 0)) return -1;
    for (int f = 0; f < nf; f++) c->fkind[f] = name_kind(c->names.a + c->fname_off[f], c->fname_len[f]);
    /* names for the text references that the tables leave unresolved (count_text_refs): globals,
     * then functions, the first of a name wins; everything else goes by value id, so functions
     * that share a name (all unnamed ones are "") each keep their own numbers */
    for (int g = 0; g < ng; g++)
        if (hmap_add(&c->by_name, gnames->a + goff[g], glen[g], -2 - g) < 0) return -1;
    for (int f = 0; f < nf; f++)
        if (hmap_add(&c->by_name, c->names.a + c->fname_off[f], c->fname_len[f], f) < 0) return -1;
    /* named types: Module.named_types is a dict by name, the last definition wins */
    int nn = c->t[LLP_NAMED].n;
    c->named_body = malloc(sizeof(int32_t) * ((size_t)nn + 1));
    if (!c->named_body) return -1;
    for (int a = nn - 1; a >= 0; a--) {
        int32_t off = COL(c, LLP_NAMED, a, N_NAMEOFF), len = COL(c, LLP_NAMED, a, N_NAMELEN);
        if (!in_src(c, off, len)) {
            off = 0;
            len = 0;
        }
        if (hmap_add(&c->named_by_name, c->src + off, len, a) < 0) return -1;
    }
    for (int a = 0; a < nn; a++) {
        int32_t off = COL(c, LLP_NAMED, a, N_NAMEOFF), len = COL(c, LLP_NAMED, a, N_NAMELEN);
        if (!in_src(c, off, len)) {
            off = 0;
            len = 0;
        }
        int k = hmap_find(&c->named_by_name, c->src + off, len);
        int last = k >= 0 ? c->named_by_name.e[k].val : a;
        c->named_body[a] = COL(c, LLP_NAMED, last, N_BODY);
    }
    /* bytes of the addrspace(3) (shared-memory) variables, each counted (unnamed ones too) */
    for (int g = 0; g < ng; g++) {
        if (COL(c, LLP_GLOBALS, g, G_KIND) != 1 || COL(c, LLP_GLOBALS, g, G_AS) != 3) continue;
        c->has_shared = 1;
        c->shared_bytes += bits(c, COL(c, LLP_GLOBALS, g, G_VTYPE), &c->module_reason) / 8;
    }
    return 0;
}

static void free_ctx(ctx *c) {
    free(c->fname_off);
    free(c->fname_len);
    free(c->frow_of_out);
    free(c->fkind);
    free(c->fpre);
    free(c->gpre);
    free(c->fgot);
    free(c->ggot);
    free(c->uses);
    free(c->freason);
    free(c->names.a);
    hmap_free(&c->by_name);
    hmap_free(&c->named_by_name);
    free(c->named_body);
    free(c->tbits);
    free(c->vcls);
    free(c->groups);
    for (size_t k = 0; k < c->seen_consts.n; k++) free((void *)c->seen_consts.e[k].p);
    hmap_free(&c->seen_consts);
    free(c->keybuf.a);
    void *scratch[] = {c->succ_off, c->succ, c->pred_off, c->pred, c->npred_tmp, c->po, c->rpo_pos, c->idom,
                       c->kids_off, c->kids, c->pre, c->post, c->level, c->loop_for, c->block_end, c->pos_of,
                       c->stack, c->stack2, c->ulist, c->reach, c->seen, c->used, c->weight, c->vend, c->ev,
                       c->lorder, c->csite_name, c->csite_len, c->csite_w, c->csite_start, c->attrs.a, c->attr_text.a,
                       c->lo_nuse, c->lo_user, c->lo_calls, c->lo_diff, c->lo_uflag, c->lo_stack, c->lo_kept,
                       c->lo_live, c->lo_iscall, c->lo_bits, c->lo_fp, c->lo_slot, c->lo_bpos, c->lo_bhash};
    for (size_t k = 0; k < sizeof scratch / sizeof scratch[0]; k++) free(scratch[k]);
    free_loops(c);
    free(c->loops);
}

/* calls to functions of the module: their estimated work joins the caller's, one level deep */
static void include_callees(ctx *c, llf_result *r) {
    for (int row = 0; row < r->rows; row++) {
        double *x = r->X + (size_t)row * NCOLS;
        int caller = r->info[row * LLF_INFO_WIDTH];
        double extra = 0;
        int ndef = 0;
        for (int32_t k = c->csite_start[row]; k < c->csite_start[row + 1]; k++) {
            int g = c->csite_name[k];   /* the callee itself, not the first function of its name */
            if (c->frow_of_out[g] < 0 || g == caller) continue;
            double est = r->X[(size_t)c->frow_of_out[g] * NCOLS + C_x_log_est_dyn_insts];
            ndef++;
            extra += c->csite_w[k] * expm1(est);
            if (isnan(est)) r->info[row * LLF_INFO_WIDTH + 4] |= R_CALLEE;
        }
        x[C_x_n_calls_defined] = ndef;
        x[C_x_log_est_dyn_insts_incl] = log1p(expm1(x[C_x_log_est_dyn_insts]) + extra);
    }
    for (int row = 0; row < r->rows; row++)
        r->info[row * LLF_INFO_WIDTH + 3] = r->info[row * LLF_INFO_WIDTH + 4] == 0;
}

/* the columns each reason leaves unknown (R_SHAPE: all of them), ended by -1 */
static const int NAN_CONSTEXPR[] = {
    C_ir_fp_ConstantIntOperandCount, C_ir_fp_ConstantFPOperandCount, C_ir_fp_ConstantOperandCount,
    C_ir_fp_InstructionOperandCount, C_ir_fp_BasicBlockOperandCount, C_ir_fp_GlobalValueOperandCount,
    C_ir_fp_InlineAsmOperandCount, C_ir_fp_ArgumentOperandCount, C_ir_fp_UnknownOperandCount,
    C_ir_fp_DirectCallsToDefinedFunctions, C_ir_fp_IntrinsicCount, -1};
static const int NAN_USES[] = {C_ir_fp_Uses, -1};
static const int NAN_BIGINT[] = {
    C_x_n_loops_const_trip, C_x_n_loops_unknown_trip, C_x_max_trip, C_x_log_trip_product_max,
    C_x_log_est_dyn_insts, C_x_log_est_dyn_mem, C_x_log_est_dyn_fp, C_x_log_est_dyn_vector,
    C_x_log_est_dyn_insts_incl, C_x_log_memop_bytes, C_x_log_est_machine_ops, C_x_max_vector_bits,
    C_x_max_live_regs, C_x_wide_values, C_gpu_shared_bytes, C_gpu_max_threads, -1};

static void set_nan(double *row, uint32_t reason) {
    if (reason & R_SHAPE) {
        for (int k = 0; k < NCOLS; k++) row[k] = NAN;
        return;
    }
    const struct { uint32_t bit; const int *cols; } masks[] = {
        {R_CONSTEXPR, NAN_CONSTEXPR}, {R_USES, NAN_USES}, {R_BIGINT, NAN_BIGINT}};
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++)
        if (reason & masks[m].bit)
            for (const int *k = masks[m].cols; *k >= 0; k++) row[*k] = NAN;
}

/* Module._program_addrspace: P<n> of the first data layout */
static void program_addrspace(ctx *c) {
    for (int i = 0; i < c->t[LLP_ENTITIES].n; i++) {
        if (COL(c, LLP_ENTITIES, i, E_KIND) != 3 || COL(c, LLP_ENTITIES, i, E_WHAT) != 6) continue;
        int32_t off = COL(c, LLP_ENTITIES, i, E_OFF), end = COL(c, LLP_ENTITIES, i, E_END);
        if (!in_src(c, off, end - off)) return;
        const char *s = c->src + off;
        int n = end - off, a = 0, b = n - 1;
        while (a < n && s[a] != '"') a++;
        while (b > a && s[b] != '"') b--;
        for (int k = a + 1; k < b; k++) {
            if (s[k] != 'P' || !(k == a + 1 || s[k - 1] == '-') || k + 1 >= b || !is_digit(s[k + 1])) continue;
            int64_t v = 0;
            int q = k + 1;
            while (q < b && is_digit(s[q]) && v < 100000000) v = v * 10 + (s[q++] - '0');
            if (q < b && is_digit(s[q])) c->prog_as_unknown = 1;
            c->prog_as = (int)v;
            if (memchr(s + a, '\\', (size_t)(b - a))) c->prog_as_unknown = 1;   /* escapes: unescape first */
            return;
        }
        return;
    }
}

static int run(ctx *c, llf_result *r) {
    if (read_tables(c, r->p)) return -2;
    program_addrspace(c);
    int nf = c->t[LLP_FUNCS].n, ng = c->t[LLP_GLOBALS].n;
    c->fname_off = calloc((size_t)nf + 1, sizeof(int32_t));
    c->fname_len = calloc((size_t)nf + 1, sizeof(int32_t));
    c->frow_of_out = calloc((size_t)nf + 1, sizeof(int32_t));
    c->fkind = calloc((size_t)nf + 1, sizeof(uint16_t));
    c->fpre = calloc((size_t)nf + 1, 1);
    c->gpre = calloc((size_t)ng + 1, 1);
    c->fgot = calloc((size_t)nf + 1, sizeof(int32_t));
    c->ggot = calloc((size_t)ng + 1, sizeof(int32_t));
    c->uses = calloc((size_t)nf + 1, sizeof(int64_t));
    c->freason = calloc((size_t)nf + 1, sizeof(uint32_t));
    int32_t *goff = calloc((size_t)ng + 1, sizeof(int32_t)), *glen = calloc((size_t)ng + 1, sizeof(int32_t));
    cbuf gnames = {0};
    int rc = -1;
    if (!c->fname_off || !c->fname_len || !c->frow_of_out || !c->fkind || !c->uses || !c->freason || !goff || !glen
        || !c->fpre || !c->gpre || !c->fgot || !c->ggot) goto out;
    if (classify_values(c) || compute_bits(c) || prepare_names(c, &gnames, goff, glen) || read_groups(c) || function_uses(c)) goto out;
    preemptible_symbols(c);
    int rows = 0;
    for (int f = 0; f < nf; f++) c->frow_of_out[f] = COL(c, LLP_FUNCS, f, F_DECL) ? -1 : rows++;
    r->rows = rows;
    r->X = calloc((size_t)rows * NCOLS + 1, sizeof(double));
    r->info = calloc((size_t)rows * LLF_INFO_WIDTH + 1, sizeof(int32_t));
    c->csite_start = calloc((size_t)rows + 1, sizeof(int32_t));
    c->words = WORDS;
    if (!r->X || !r->info || !c->csite_start) goto out;
    for (int f = 0; f < nf; f++) {
        int row = c->frow_of_out[f];
        if (row < 0) continue;
        uint32_t reason = c->freason[f] | c->module_reason;
        c->csite_start[row] = (int32_t)c->ncsite;
        if (featurize(c, f, r->X + (size_t)row * NCOLS, &reason)) goto out;
        set_nan(r->X + (size_t)row * NCOLS, reason);
        int32_t *info = r->info + (size_t)row * LLF_INFO_WIDTH;
        info[0] = f;
        info[1] = (int32_t)r->names.n;
        info[2] = c->fname_len[f];
        info[4] = (int32_t)reason;
        if (cbuf_add(&r->names, c->names.a + c->fname_off[f], (size_t)c->fname_len[f])) goto out;
        if (cbuf_add(&r->names_nul, c->names.a + c->fname_off[f], (size_t)c->fname_len[f])
            || cbuf_add(&r->names_nul, "", 1))
            goto out;
    }
    c->csite_start[rows] = (int32_t)c->ncsite;
    include_callees(c, r);
    rc = 0;
out:
    free(goff);
    free(glen);
    free(gnames.a);
    return rc;
}

/* ------------------------------------------------------------------ API */
API int llfeatures_abi_version(void) { return LLF_ABI; }
API int llf_ncolumns(void) { return NCOLS; }
API const char *llf_column_name(int i) { return i >= 0 && i < NCOLS ? COLUMN_NAMES[i] : NULL; }
API const char *llf_reason_name(int bit) { return bit >= 0 && bit < R_NBITS ? REASON_NAMES[bit] : NULL; }

API llf_result *llf_run(const char *src, size_t len) {
    /* idempotent: a second thread here writes the same values; none reads them before the flag */
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) {
        init_crc();
        init_ops();
        init_op_crcs();
        init_chars();
        __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
    }
    llf_result *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->p = llp_parse(src, len);
    if (!r->p) {
        free(r);
        return NULL;
    }
    size_t off;
    int line, col;
    const char *msg;
    if (llp_error(r->p, &off, &line, &col, &msg)) {
        r->err = 1;
        return r;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    c.src = src;
    c.len = len;
    int rc = run(&c, r);
    free_ctx(&c);
    if (rc == -1) {
        llf_free(r);
        return NULL;
    }
    if (rc == -2) r->err = 2;   /* tables of another layout (a stale build): no rows at all */
    return r;
}

API void llf_free(llf_result *r) {
    if (!r) return;
    if (r->p) llp_free(r->p);
    free(r->X);
    free(r->info);
    free(r->names.a);
    free(r->names_nul.a);
    free(r);
}

API int llf_usable(const llf_result *r) { return r->err == 0; }

API int llf_error(const llf_result *r, size_t *offset, int *line, int *col, const char **msg) {
    if (r->err != 1) return 0;
    return llp_error(r->p, offset, line, col, msg);
}

API int llf_rows(const llf_result *r) { return r->rows; }
API const double *llf_matrix(const llf_result *r) { return r->X; }
API const int32_t *llf_info(const llf_result *r) { return r->info; }

API void llf_summary(const llf_result *r, int64_t out[4]) {
    int inexact = 0;
    for (int i = 0; i < r->rows; i++) inexact += r->info[(size_t)i * LLF_INFO_WIDTH + 3] == 0;
    out[0] = r->err == 0;
    out[1] = r->rows;
    out[2] = inexact;
    out[3] = (int64_t)r->names_nul.n;
}

API const char *llf_names_nul(const llf_result *r) { return r->names_nul.a ? r->names_nul.a : ""; }

API void llf_copy_matrix(const llf_result *r, double *out, int stride) {
    for (int i = 0; i < r->rows; i++) {
        double *o = out + (size_t)i * (size_t)stride;
        memcpy(o, r->X + (size_t)i * NCOLS, NCOLS * sizeof(double));
        for (int k = NCOLS; k < stride; k++) o[k] = NAN;
    }
}

API const char *llf_names(const llf_result *r, size_t *len) {
    *len = r->names.n;
    return r->names.a ? r->names.a : "";
}
