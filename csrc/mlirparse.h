/* mlirparse: MLIR text (generic form of any dialect, pretty forms by structure) -> flat int32 tables.
 *
 * Contract with irtools/ir/mlir (the Python views):
 *   mlp_parse() parses bytes [begin, end) of `src` (a split-input-file chunk, or the whole file) in one
 *   pass; it never aborts, never reads outside [src, src+end) and always returns a result (NULL only
 *   when memory runs out).  mlp_error() says whether parsing stopped, where (byte offset into src) and
 *   why, in MLIR's wording.  Every table is an array of rows of `width` int32 (columns below); byte
 *   offsets point into src, so Python slices names and texts from the bytes it passed in.
 *   Ops are stored in document order (pre-order), except implicit ops (elided terminators, the implicit
 *   top-level module), which are appended when they are known.  Links are -1 when absent.
 */
#ifndef MLIRPARSE_H
#define MLIRPARSE_H
#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
typedef struct mlp_result mlp_result;

enum {
    MLP_ABI = 2,
    /* tables */
    MLP_OPS = 0,      /* see MLP_OP_* columns */
    MLP_VALUES = 1,   /* kind (0 result, 1 block argument), owner (op or block), index, name_off, name_len,
                         type_off, type_len (type_len 0: unknown) */
    MLP_OPERANDS = 2, /* value (-1 unresolved), off, len (text of the use, with #N), scope region */
    MLP_REGIONS = 3,  /* parent op, first block, block count, next region of the same op, off */
    MLP_BLOCKS = 4,   /* parent region, next block, arg first value, arg count, first op, last op, op count,
                         name_off, name_len (0: unnamed entry block), line */
    MLP_SUCCS = 5,    /* block (-1 unresolved), off, len, scope region */
    MLP_ALIASES = 6,  /* kind (0 attribute '#', 1 type '!'), name_off, name_len, value_off, value_len */
    MLP_NAMES = 7,    /* distinct op names: off, len, prefix (off -1: implicit, prefix indexes mlp_implicit_name) */
    MLP_NTABLES = 8,
    /* op columns */
    MLP_OP_NAME_OFF = 0, MLP_OP_NAME_LEN = 1, MLP_OP_PREFIX = 2, MLP_OP_FLAGS = 3, MLP_OP_PARENT = 4,
    MLP_OP_NEXT = 5, MLP_OP_RES_FIRST = 6, MLP_OP_RES_COUNT = 7, MLP_OP_OPD_FIRST = 8,
    MLP_OP_OPD_COUNT = 9, MLP_OP_REG_FIRST = 10, MLP_OP_REG_COUNT = 11, MLP_OP_SUCC_FIRST = 12,
    MLP_OP_SUCC_COUNT = 13, MLP_OP_ATTR_OFF = 14, MLP_OP_ATTR_LEN = 15, MLP_OP_PROP_OFF = 16,
    MLP_OP_PROP_LEN = 17, MLP_OP_TYPE_OFF = 18, MLP_OP_TYPE_LEN = 19, MLP_OP_LOC_OFF = 20,
    MLP_OP_LOC_LEN = 21, MLP_OP_START = 22, MLP_OP_END = 23, MLP_OP_LINE = 24, MLP_OP_SYM_OFF = 25,
    MLP_OP_SYM_LEN = 26, MLP_OP_HDR_END = 27, MLP_OP_NAME_ID = 28, MLP_OP_WIDTH = 29,
    /* op flags */
    MLP_F_GENERIC = 1,    /* written in the generic form */
    MLP_F_IMPLICIT = 2,   /* not in the text: PREFIX is an index into mlp_implicit_name() */
    /* prefix: index into mlp_prefix_name(), prepended to a bare (dot-less) pretty op name */
    MLP_VALUE_WIDTH = 7, MLP_OPERAND_WIDTH = 4, MLP_REGION_WIDTH = 5, MLP_BLOCK_WIDTH = 10,
    MLP_SUCC_WIDTH = 4, MLP_ALIAS_WIDTH = 5, MLP_NAME_WIDTH = 3
};

int mlirparse_abi_version(void);
mlp_result *mlp_parse(const char *src, size_t begin, size_t end);
void mlp_free(mlp_result *r);
/* 1 when parsing stopped at an error (then *offset and *msg are set), else 0. */
int mlp_error(const mlp_result *r, size_t *offset, const char **msg);
/* Rows of table `which`; returns the row count and sets *rows and *width. */
int mlp_table(const mlp_result *r, int which, const int32_t **rows, int *width);
/* Top-level op of the chunk (the module, implicit or written). */
int mlp_top(const mlp_result *r);
/* Span of the {-# ... #-} dialect resources block (len 0 when absent). */
int mlp_resources(const mlp_result *r, int *off, int *len);
const char *mlp_prefix_name(int i);
const char *mlp_implicit_name(int i);
/* CFFI-END */
#endif
