/* llparse: LLVM IR text (LLVM 14..22 syntax) -> flat int32 tables, in one pass.
 *
 * Contract with irtools/ir/llvm (the Python views):
 *   llp_parse() never aborts, never reads outside [src, src+len) and always returns a module
 *   (NULL only when memory runs out); llp_error() says whether parsing stopped, where (byte
 *   offset, 1-based line and byte column) and why, in LLVM's wording.  Every table is an array
 *   of rows of `width` int32 (see LLP_* below for the columns); byte offsets point into the
 *   source, so the Python side slices names and texts from the bytes it passed in.
 *   Value ids (the VALUES table) are the one currency of references: operands and refs hold them.
 */
#ifndef LLPARSE_H
#define LLPARSE_H
#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
typedef struct llp_module llp_module;

enum {
    LLP_ABI = 3,
    /* tables */
    LLP_VALUES = 0,   /* kind, index (row in that kind's table), type */
    LLP_INSTS = 1,    /* opcode, flags, type, block, op_start, nops, nops_total, off, end, name_off,
                         name_len, key, ref_start, ref_end, md_off, vid, aux, nargs
                         operands nops_total - nops past the operands: a phi's incoming blocks,
                         a switch's case values (its operands end with the case destinations);
                         key: predicate/atomicrmw-op offset, call signature type, or index count;
                         aux: callee vid, alloca/gep type, shuffle mask vid, or index start */
    LLP_BLOCKS = 2,   /* func, name_off, name_len, inst_start, inst_count, vid, label_off, label_end
                         (name_off/name_len everywhere: the name after its sigil, inside quotes) */
    LLP_FUNCS = 3,    /* vid, name_off, name_len, type, arg_start, arg_count, block_start, block_count,
                         is_decl, off, hdr_end, end, ref_start, ref_end, tail_off, tail_ref_start,
                         personality vid, prefix vid, prologue vid, addrspace (-1: not stated) */
    LLP_ARGS = 4,     /* func, type, name_off, name_len, vid, index */
    LLP_GLOBALS = 5,  /* kind (1 var, 2 alias, 3 ifunc), vid, name_off, name_len, value_type, init vid,
                         off, end, ref_start, ref_end, is_constant, addrspace */
    LLP_TYPES = 6,    /* kind, a, b, c, list_off, list_len, text_off, text_len */
    LLP_TYPELIST = 7, /* width 1: element/param type ids */
    LLP_NAMED = 8,    /* name_off, name_len, type id, body type id (-1 opaque) */
    LLP_CONSTS = 9,   /* kind, type, off, end, op_start, op_count, key_off, vid */
    LLP_OPERANDS = 10,/* width 1: value ids */
    LLP_REFS = 11,    /* off, len, vid: every name reference, for the printer */
    LLP_ENTITIES = 12,/* kind (1 func, 2 global, 3 text), index, off, end, ref_start, ref_end, what;
                         what for text: 1 type def, 2 comdat, 3 metadata, 4 summary, 5 attribute group,
                         6 datalayout, 7 triple, 8 source_filename, 9 module asm, 10 deplibs,
                         11 uselistorder */
    LLP_DBGRECS = 13, /* inst, off, end, ref_start, ref_end */
    LLP_INDICES = 14, /* width 1: extractvalue/insertvalue indices (aux = start, count in row) */
    LLP_NTABLES = 15,
    /* value kinds */
    LLP_V_FWD = 0, LLP_V_FUNC = 1, LLP_V_GVAR = 2, LLP_V_ALIAS = 3, LLP_V_IFUNC = 4, LLP_V_ARG = 5,
    LLP_V_INST = 6, LLP_V_BLOCK = 7, LLP_V_CONST = 8,
    /* constant kinds (same numbers as irtools.ir.llvm.ConstantKind) */
    LLP_C_INT = 1, LLP_C_FP = 2, LLP_C_NULL = 3, LLP_C_UNDEF = 4, LLP_C_POISON = 5, LLP_C_ZERO = 6,
    LLP_C_AGGREGATE = 7, LLP_C_STRING = 8, LLP_C_EXPR = 9, LLP_C_BLOCKADDRESS = 10, LLP_C_NONE = 11,
    LLP_C_OTHER = 12, LLP_C_METADATA = 13, LLP_C_ASM = 14,
    /* type kinds */
    LLP_T_VOID = 1, LLP_T_INT = 2, LLP_T_FP = 3, LLP_T_PTR = 4, LLP_T_VECTOR = 5, LLP_T_ARRAY = 6,
    LLP_T_STRUCT = 7, LLP_T_NAMED = 8, LLP_T_FUNC = 9, LLP_T_LABEL = 10, LLP_T_METADATA = 11,
    LLP_T_TOKEN = 12, LLP_T_TARGET = 13, LLP_T_X86AMX = 14, LLP_T_X86MMX = 15, LLP_T_OPAQUE = 16
};

int llparse_abi_version(void);
llp_module *llp_parse(const char *src, size_t len);
/* Frees the module.  Regions of 2 MB or more (the tables of a large module) are kept for the next
 * parse, at most 256 MB process-wide; llp_trim() gives them back to the system. */
void llp_free(llp_module *m);
void llp_trim(void);
/* 1 when parsing stopped at an error (then offset, line, col and msg are set), else 0. */
int llp_error(const llp_module *m, size_t *offset, int *line, int *col, const char **msg);
/* Rows of table `which`; returns the row count and sets *rows and *width. */
int llp_table(const llp_module *m, int which, const int32_t **rows, int *width);
/* The pool that TYPES text_off/text_len index (canonical LLVM spelling of each type). */
const char *llp_typetext(const llp_module *m, size_t *len);
/* Opcode names, index = the INSTS opcode column; the list ends with NULL. */
const char *llp_opcode_name(int op);
const char *llp_flag_name(int bit);
/* --- opcode numbers for "extra" keyword rows are exposed through llp_opcode_name --- */
/* CFFI-END */
#endif
