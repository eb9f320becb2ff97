/* mlirparse: see mlirparse.h for the contract.
 *
 * One recursive-descent pass over an on-demand lexer.  The generic form is parsed strictly (it is
 * the same for every dialect).  Pretty (custom) forms cannot be parsed exactly without each dialect's
 * grammar, so they are recovered by structure: an op starts at `%res =` or at an op name at the
 * start of a statement, runs over balanced brackets to the end of its line unless a region `{`
 * follows, and `%x` tokens inside it are uses unless the syntax says they define region arguments.
 * Errors longjmp out to mlp_parse(), which owns every allocation, so no error path can leak.
 */
#define _POSIX_C_SOURCE 200809L
#include "mlirparse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    T_EOF, T_BARE, T_PERCENT, T_CARET, T_AT, T_HASH, T_EXCL, T_INT, T_FLOAT, T_STRING,
    T_LPAREN, T_RPAREN, T_LSQ, T_RSQ, T_LBRACE, T_RBRACE, T_LT, T_GT, T_COMMA, T_COLON, T_DCOLON,
    T_EQ, T_ARROW, T_QUESTION, T_STAR, T_PLUS, T_MINUS, T_LE, T_GE, T_MBEGIN, T_MEND, T_PUNCT
};

typedef struct {
    int kind;
    int nl;          /* a newline separates it from the previous token */
    int32_t off, len;
    int32_t line;
} tok;

typedef struct { int32_t *v; int32_t n, cap, width; } table;

typedef struct { uint32_t hash; int32_t scope, off, len, value, count; } hentry;

struct mlp_result {
    table t[MLP_NTABLES];
    int32_t top;
    int32_t res_off, res_len;
    int error;
    int32_t err_off;
    char msg[256];
};

typedef struct {
    const char *s;
    int32_t begin, end;
    int32_t pos, line;       /* lexer state: the byte after the current token */
    tok t;
    int32_t prev_end;        /* end of the previous token */
    int peeking;
    mlp_result *r;
    jmp_buf jb;
    int depth;
    hentry *h; int32_t hcap, hn;
    table scratch;           /* per-op pending operands/successors/defs, stack discipline */
    table auses;             /* alias uses: off, len */
    table deftypes;          /* off, len of the types written after pretty region-argument defs */
    table defstack;          /* scope, off, len of SSA names defined in open regions (removed at close) */
    table pending;           /* operand rows not resolved yet; their scope column climbs as regions close */
    int32_t bad_result_off;  /* first `%x#N` with N out of range, -1 if none */
    table rlast;             /* per region: its last block */
    table psuccs;            /* successor rows waiting for their region to close */
    int32_t bad_succ_off;    /* first successor naming no block of its region, -1 if none */
    int any_pretty;
} P;

/* Scratch rows: kind, a, b, c. */
enum { S_OPERAND = 0, S_SUCC = 1, S_DEF = 2 };

static const char *PREFIXES[] = {"", "builtin.", "func.", "transform.", "spirv.", "pdl.", "irdl.", "hw.",
                                 "pdl_interp.", NULL};
static const char *IMPLICIT[] = {"builtin.module", "scf.yield", "scf.reduce", "scf.forall.in_parallel",
                                 "affine.yield", "memref.alloca_scope.return", "shape.assuming_yield",
                                 "emitc.yield", "smt.yield", "acc.terminator",
                                 /* 10: bodies of linalg named ops */
                                 "linalg.yield", "arith.addf", "arith.addi", "arith.subf", "arith.subi",
                                 "arith.mulf", "arith.muli", "arith.divf", "arith.divsi", "arith.divui",
                                 "arith.maximumf", "arith.maxsi", "arith.minimumf", "arith.minsi", "math.powf",
                                 "math.exp", "math.log", "math.absf", "math.ceil", "math.floor", "arith.negf",
                                 "math.sqrt", "math.rsqrt", "math.tanh", "math.erf", "arith.extf", "arith.truncf",
                                 "arith.extsi", "arith.trunci", "arith.sitofp", "arith.fptosi", "arith.select",
                                 "arith.maxui", "arith.minui", NULL};
enum { I_YIELD = 10, I_ADDF, I_ADDI, I_SUBF, I_SUBI, I_MULF, I_MULI, I_DIVF, I_DIVSI, I_DIVUI, I_MAXF, I_MAXSI,
       I_MINF, I_MINSI, I_POWF, I_EXP, I_LOG, I_ABSF, I_CEIL, I_FLOOR, I_NEGF, I_SQRT, I_RSQRT, I_TANH, I_ERF,
       I_EXTF, I_TRUNCF, I_EXTSI, I_TRUNCI, I_SITOFP, I_FPTOSI, I_SELECT, I_MAXUI, I_MINUI };

int mlirparse_abi_version(void) { return MLP_ABI; }
const char *mlp_prefix_name(int i) {
    return (i >= 0 && i < (int)(sizeof PREFIXES / sizeof *PREFIXES) - 1) ? PREFIXES[i] : NULL;
}
const char *mlp_implicit_name(int i) {
    return (i >= 0 && i < (int)(sizeof IMPLICIT / sizeof *IMPLICIT) - 1) ? IMPLICIT[i] : NULL;
}

static void fail(P *p, int32_t off, const char *fmt, ...) {
    mlp_result *r = p->r;
    if (!r->error) {
        r->error = 1;
        r->err_off = off;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof r->msg, fmt, ap);
        va_end(ap);
    }
    longjmp(p->jb, 1);
}

static void grow(P *p, table *t) {
    int32_t cap = t->cap ? t->cap * 2 : 64;
    if (cap > (1 << 28) / t->width) fail(p, p->t.off, "input too large");
    int32_t *v = realloc(t->v, (size_t)cap * t->width * sizeof(int32_t));
    if (!v) fail(p, p->t.off, "out of memory");
    t->v = v;
    t->cap = cap;
}

static inline int32_t *row_add(P *p, table *t) {
    if (t->n == t->cap) grow(p, t);
    int32_t *row = t->v + (size_t)t->n * t->width;
    for (int i = 0; i < t->width; i++) row[i] = -1;
    t->n++;
    return row;
}
#define ROW(p, which, i) ((p)->r->t[which].v + (size_t)(i) * (p)->r->t[which].width)

/* ---------------------------------------------------------------- lexer */

/* character classes, indexed by byte + 1 so that -1 (end of input) maps to no class */
enum { C_ALPHA = 1, C_DIGIT = 2, C_HEX = 4, C_BARE = 8, C_SUFFIX = 16, C_SPACE = 32, C_STRSTOP = 64 };
static unsigned char CLS[257];
/* How a token starting with byte c is lexed: one of TS_*, or TS_ONE + the kind of a one-byte token. */
enum { TS_BAD, TS_BARE, TS_DIGIT, TS_QUOTE, TS_SIGIL, TS_MULTI, TS_PUNCT, TS_ONE };
static unsigned char TSTART[256];
/* For TS_MULTI bytes: the kind when the token is that byte alone, and the next byte that makes it longer. */
static unsigned char ONE_KIND[256], ONE_UNLESS[256];
static volatile int classes_ready;
static void init_classes(void) {
    if (classes_ready) return;
    for (int c = 0; c < 256; c++) {
        unsigned char ts = TS_BAD;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') ts = TS_BARE;
        else if (c >= '0' && c <= '9') ts = TS_DIGIT;
        else if (c == '"') ts = TS_QUOTE;
        else if (c == '%' || c == '^' || c == '#' || c == '!' || c == '@') ts = TS_SIGIL;
        else if (c == '{' || c == '<' || c == '>' || c == ':' || c == '-') ts = TS_MULTI;
        else if (c == '(') ts = TS_ONE + T_LPAREN;
        else if (c == ')') ts = TS_ONE + T_RPAREN;
        else if (c == '[') ts = TS_ONE + T_LSQ;
        else if (c == ']') ts = TS_ONE + T_RSQ;
        else if (c == '}') ts = TS_ONE + T_RBRACE;
        else if (c == ',') ts = TS_ONE + T_COMMA;
        else if (c == '=') ts = TS_ONE + T_EQ;
        else if (c == '?') ts = TS_ONE + T_QUESTION;
        else if (c == '*') ts = TS_ONE + T_STAR;
        else if (c == '+') ts = TS_ONE + T_PLUS;
        else if (c > 32 && c < 127) ts = TS_PUNCT;
        TSTART[c] = ts;
        ONE_KIND[c] = c == '{' ? T_LBRACE : c == '<' ? T_LT : c == '>' ? T_GT : c == ':' ? T_COLON : T_MINUS;
        ONE_UNLESS[c] = c == '{' ? '-' : c == '<' || c == '>' ? '=' : c == ':' ? ':' : '>';
        unsigned char k = 0;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'), digit = c >= '0' && c <= '9';
        if (alpha) k |= C_ALPHA;
        if (digit) k |= C_DIGIT;
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) k |= C_HEX;
        if (alpha || digit || c == '_' || c == '$' || c == '.') k |= C_BARE | C_SUFFIX;
        if (c == '-') k |= C_SUFFIX;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') k |= C_SPACE;
        if (c == '"' || c == '\\' || c == '\n') k |= C_STRSTOP;
        CLS[c + 1] = k;
    }
    classes_ready = 1;
}
static inline int is_alpha(int c) { return CLS[c + 1] & C_ALPHA; }
static inline int is_digit(int c) { return CLS[c + 1] & C_DIGIT; }
static inline int is_hex(int c) { return CLS[c + 1] & C_HEX; }
static inline int is_bare(int c) { return CLS[c + 1] & C_BARE; }
static inline int is_suffix(int c) { return CLS[c + 1] & C_SUFFIX; }

static inline int at(P *p, int32_t i) { return i < p->end ? (unsigned char)p->s[i] : -1; }

static void note_alias_use(P *p) {
    /* `#name` / `!name` with no dot and no `<` body refers to an alias */
    const char *s = p->s + p->t.off + 1;
    int32_t n = p->t.len - 1;
    if (n <= 0 || s[0] == '"' || memchr(s, '.', (size_t)n)) return;
    int digits = 1;
    for (int32_t i = 0; i < n; i++) if (!is_digit((unsigned char)s[i])) digits = 0;
    if (digits || at(p, p->t.off + p->t.len) == '<') return;
    int32_t *row = row_add(p, &p->auses);
    row[0] = p->t.off;
    row[1] = p->t.len;
}

static int32_t lex_string(P *p, int32_t i) {
    /* i is at the opening quote; returns the index after the closing quote */
    const char *s = p->s;
    const int32_t end = p->end;
    int32_t start = i++;
    for (;;) {
        while (i < end && !(CLS[(unsigned char)s[i] + 1] & C_STRSTOP)) i++;
        int c = at(p, i);
        if (c < 0 || c == '\n') fail(p, start, "expected '\"' in string literal");
        if (c == '"') return i + 1;
        if (c == '\\') {
            int d = at(p, i + 1);
            if (d == '"' || d == '\\' || d == 'n' || d == 't') i += 2;
            else if (is_hex(d) && is_hex(at(p, i + 2))) i += 3;
            else fail(p, i, "unknown escape in string literal");
        } else i++;
    }
}

/* The hot loop of the parser: everything it reads lives in locals (p's fields would be reloaded after
   every store through p), and each class of token is scanned by a tight loop over a bounds-checked
   local index. */
static void next_slow(P *p) {
    const unsigned char *s = (const unsigned char *)p->s;
    const int32_t end = p->end;
    int32_t i = p->pos;
    int32_t line = p->line;
    int nl = 0;
    p->prev_end = p->t.off + p->t.len;
    while (i < end) {
        unsigned c = s[i];
        if (c == ' ') { i++; continue; }
        if (c == '\n') { nl = 1; line++; i++; continue; }
        if (CLS[c + 1] & C_SPACE) { i++; continue; }
        if (c == '/' && i + 1 < end && s[i + 1] == '/') {
            const unsigned char *nlp = memchr(s + i, '\n', (size_t)(end - i));
            i = nlp ? (int32_t)(nlp - s) : end;
            continue;
        }
        break;
    }
    p->line = line;
    tok t = {T_EOF, nl, i, 0, line};
#define AT(k) ((k) < end ? (int)s[k] : -1)
    int32_t j = i + 1;
    if (i >= end) { t.kind = T_EOF; j = i; goto done; }
    int c = s[i];
    unsigned ts = TSTART[c];
    if (ts >= TS_ONE) { t.kind = (int)(ts - TS_ONE); goto done; }
    switch (ts) {
    case TS_BARE:
        while (j < end && (CLS[s[j] + 1] & C_BARE)) j++;
        t.kind = T_BARE;
        break;
    case TS_SIGIL: {
        int d = AT(j);
        if (c == '#' && d == '-' && AT(j + 1) == '}') { j += 2; t.kind = T_MEND; }
        else if (c == '@' && d == '"') { j = lex_string(p, j); t.kind = T_AT; }
        else if ((c == '%' || c == '^' || c == '#') && (is_suffix(d))) {
            while (j < end && (CLS[s[j] + 1] & C_SUFFIX)) j++;
            t.kind = c == '%' ? T_PERCENT : c == '^' ? T_CARET : T_HASH;
        } else if ((c == '!' || c == '@') && (is_alpha(d) || d == '_' || (c == '@' && is_suffix(d)))) {
            int cls = c == '!' ? C_BARE : C_SUFFIX;
            while (j < end && (CLS[s[j] + 1] & cls)) j++;
            t.kind = c == '!' ? T_EXCL : T_AT;
        } else if (c == '!' && d == '"') { j = lex_string(p, j); t.kind = T_EXCL; }
        else fail(p, i, "invalid identifier after '%c'", c);
        break;
    }
    case TS_DIGIT:
        if (c == '0' && AT(j) == 'x' && is_hex(AT(j + 1))) {
            j += 1;
            while (is_hex(AT(j))) j++;
            t.kind = T_INT;
        } else {
            while (is_digit(AT(j))) j++;
            t.kind = T_INT;
            if (AT(j) == '.') {
                j++;
                t.kind = T_FLOAT;
                while (is_digit(AT(j))) j++;
                if ((AT(j) == 'e' || AT(j) == 'E') &&
                    (is_digit(AT(j + 1)) || ((AT(j + 1) == '-' || AT(j + 1) == '+') && is_digit(AT(j + 2))))) {
                    j += 2;
                    while (is_digit(AT(j))) j++;
                }
            }
        }
        break;
    case TS_QUOTE:
        j = lex_string(p, i);
        t.kind = T_STRING;
        break;
    case TS_MULTI:
        switch (c) {
        case '{':
            if (AT(j) == '-' && AT(j + 1) == '#') { j += 2; t.kind = T_MBEGIN; }
            else t.kind = T_LBRACE;
            break;
        case '<': if (AT(j) == '=') { j++; t.kind = T_LE; } else t.kind = T_LT; break;
        case '>': if (AT(j) == '=') { j++; t.kind = T_GE; } else t.kind = T_GT; break;
        case ':': if (AT(j) == ':') { j++; t.kind = T_DCOLON; } else t.kind = T_COLON; break;
        default: if (AT(j) == '>') { j++; t.kind = T_ARROW; } else t.kind = T_MINUS; break;
        }
        break;
    case TS_PUNCT:
        t.kind = T_PUNCT;
        break;
    default:
        fail(p, i, "unexpected character");
    }
done:
#undef AT
    t.len = j - i;
    p->pos = j;
    p->t = t;
    if (!p->peeking && (t.kind == T_HASH || t.kind == T_EXCL)) note_alias_use(p);
}

/* The common case inline: a one-byte token ('(', ',', '=', ':', '<'...), after at most one space on the
   same line; everything else goes through next_slow. */
static inline void next(P *p) {
    const unsigned char *s = (const unsigned char *)p->s;
    int32_t i = p->pos, end = p->end;
    if (i + 2 < end) {
        unsigned c = s[i];
        if (c == ' ') c = s[++i];
        unsigned ts = TSTART[c];
        int kind = ts >= TS_ONE ? (int)(ts - TS_ONE)
                 : ts == TS_MULTI && s[i + 1] != ONE_UNLESS[c] ? ONE_KIND[c] : -1;
        if (kind >= 0) {
            p->prev_end = p->t.off + p->t.len;
            p->t.kind = kind;
            p->t.nl = 0;
            p->t.off = i;
            p->t.len = 1;
            p->t.line = p->line;
            p->pos = i + 1;
            return;
        }
    }
    next_slow(p);
}

typedef struct { int32_t pos, line, prev_end; tok t; } lexstate;
static lexstate save(P *p) { lexstate s = {p->pos, p->line, p->prev_end, p->t}; p->peeking++; return s; }
static void restore(P *p, lexstate s) { p->pos = s.pos; p->line = s.line; p->prev_end = s.prev_end; p->t = s.t; p->peeking--; }

static tok peek(P *p) {
    lexstate s = save(p);
    next(p);
    tok t = p->t;
    restore(p, s);
    return t;
}

static int tok_is(P *p, tok t, const char *word) {
    size_t n = strlen(word);
    return t.kind == T_BARE && (size_t)t.len == n && memcmp(p->s + t.off, word, n) == 0;
}

static void expect(P *p, int kind, const char *what) {
    if (p->t.kind != kind) fail(p, p->t.off, "expected %s", what);
    next(p);
}

static void enter(P *p) {
    if (++p->depth > 400) fail(p, p->t.off, "nesting too deep");
}

/* ---------------------------------------------------------------- names */

static inline uint64_t load64(const char *s) { uint64_t v; memcpy(&v, s, 8); return v; }

/* Eight bytes at a time; a short tail is read as the last eight bytes ending at it when they lie inside
   the chunk (names are rarely at its very start), so a typical `%1234` costs one load. */
static uint32_t hash_bytes(P *p, int32_t off, int32_t n, int32_t scope) {
    const char *s = p->s + off;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uint32_t)scope ^ ((uint64_t)(uint32_t)n << 32);
    while (n >= 8) {
        h = (h ^ load64(s)) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
        s += 8; off += 8; n -= 8;
    }
    if (n > 0) {
        uint64_t v;
        if (off + n - 8 >= p->begin) v = load64(s + n - 8) >> (8 * (8 - n));
        else { v = 0; for (int32_t i = 0; i < n; i++) v |= (uint64_t)(unsigned char)s[i] << (8 * i); }
        h = (h ^ v) * 0xff51afd7ed558ccdull;
    }
    h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ull; h ^= h >> 33;
    uint32_t r = (uint32_t)h;
    return r ? r : 1;
}

static inline int same_bytes(const char *a, const char *b, int32_t n) {
    if (n >= 8) {
        for (int32_t k = 0; k + 8 <= n; k += 8) if (load64(a + k) != load64(b + k)) return 0;
        return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4) {
        uint32_t x, y, u, v;
        memcpy(&x, a, 4); memcpy(&y, b, 4); memcpy(&u, a + n - 4, 4); memcpy(&v, b + n - 4, 4);
        return x == y && u == v;
    }
    while (n-- > 0) if (*a++ != *b++) return 0;
    return 1;
}

static hentry *hfind(P *p, int32_t scope, int32_t off, int32_t len, int create) {
    if (create && (p->hn + 1) * 2 > p->hcap) {
        int32_t cap = p->hcap ? p->hcap * 2 : 1024;
        hentry *nh = calloc((size_t)cap, sizeof *nh);
        if (!nh) fail(p, p->t.off, "out of memory");
        for (int32_t i = 0; i < p->hcap; i++) {
            if (!p->h[i].hash) continue;
            uint32_t k = p->h[i].hash & (uint32_t)(cap - 1);
            while (nh[k].hash) k = (k + 1) & (uint32_t)(cap - 1);
            nh[k] = p->h[i];
        }
        free(p->h);
        p->h = nh;
        p->hcap = cap;
    }
    if (!p->hcap) return NULL;
    uint32_t hv = hash_bytes(p, off, len, scope);
    uint32_t k = hv & (uint32_t)(p->hcap - 1);
    while (p->h[k].hash) {
        hentry *e = &p->h[k];
        if (e->hash == hv && e->scope == scope && e->len == len && same_bytes(p->s + e->off, p->s + off, len))
            return e;
        k = (k + 1) & (uint32_t)(p->hcap - 1);
    }
    if (!create) return NULL;
    hentry *e = &p->h[k];
    e->hash = hv; e->scope = scope; e->off = off; e->len = len; e->value = -1; e->count = 0;
    p->hn++;
    return e;
}

static void define(P *p, int32_t scope, int32_t off, int32_t len, int32_t value, int32_t count, int strict) {
    hentry *e = hfind(p, scope, off, len, 1);
    if (e->value >= 0 && strict && p->s[off] == '^') fail(p, off, "redefinition of block '%.*s'", (int)len, p->s + off);
    if (e->value >= 0 && strict) fail(p, off, "redefinition of SSA value '%.*s'", (int)len, p->s + off);
    int fresh = e->value < 0;
    e->value = value;
    e->count = count;
    if (fresh && scope >= 0) {
        int32_t *row = row_add(p, &p->defstack);
        row[0] = scope; row[1] = off; row[2] = len;
    }
}

/* Remove an entry, shifting later members of its probe run back (linear probing, no tombstones). */
static void hdelete(P *p, hentry *e) {
    uint32_t mask = (uint32_t)p->hcap - 1;
    uint32_t i = (uint32_t)(e - p->h), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!p->h[j].hash) break;
        uint32_t k = p->h[j].hash & mask;
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        p->h[i] = p->h[j];
        i = j;
    }
    p->h[i].hash = 0;
    p->hn--;
}

static int32_t parent_scope(P *p, int32_t region);

/* Look a use up in one scope; 1 when the name is defined there (row[0] set unless #N is out of range). */
static int lookup_use(P *p, int32_t *row, int32_t scope) {
    int32_t off = row[1], len = row[2];
    int32_t nlen = len, num = 0;
    for (int32_t k = 0; k < len; k++) if (p->s[off + k] == '#') {
        nlen = k;
        for (int32_t m = k + 1; m < len && num < 10000000; m++) num = num * 10 + (p->s[off + m] - '0');
        break;
    }
    hentry *e = hfind(p, scope, off, nlen, 0);
    if (!e || e->value < 0) return 0;
    if (num >= e->count) { if (p->bad_result_off < 0) p->bad_result_off = off; }
    else row[0] = e->value + num;
    return 1;
}

/* Region `region` closes: settle the uses waiting in it, then forget the names it defined. */
static void close_scope(P *p, int32_t region, int32_t pending_base, int32_t succ_base) {
    table *ops = &p->r->t[MLP_OPERANDS];
    int32_t keep = pending_base;
    int32_t up = parent_scope(p, region);
    for (int32_t i = pending_base; i < p->pending.n; i++) {
        int32_t k = p->pending.v[i];
        int32_t *row = ops->v + (size_t)k * 4;
        if (row[3] == region && lookup_use(p, row, region)) continue;
        if (row[3] == region) row[3] = up;
        p->pending.v[keep++] = k;
    }
    p->pending.n = keep;
    table *su = &p->r->t[MLP_SUCCS];
    for (int32_t i = succ_base; i < p->psuccs.n; i++) {
        int32_t *row = su->v + (size_t)p->psuccs.v[i] * 4;
        hentry *e = hfind(p, row[3], row[1], row[2], 0);
        if (e && e->value >= 0) row[0] = e->value;
        else if (p->bad_succ_off < 0 || row[1] < p->bad_succ_off) p->bad_succ_off = row[1];
    }
    p->psuccs.n = succ_base;
    while (p->defstack.n > 0) {
        int32_t *d = p->defstack.v + (size_t)(p->defstack.n - 1) * 3;
        if (d[0] != region) break;
        hentry *e = hfind(p, d[0], d[1], d[2], 0);
        if (e) hdelete(p, e);
        p->defstack.n--;
    }
}

/* Id of an op name in the NAMES table (interned, so that Python builds each name string once). */
static int32_t intern_name(P *p, int32_t off, int32_t len, int32_t prefix, int implicit) {
    int32_t scope = implicit ? -1000 - prefix : -100 - prefix;
    hentry *e = hfind(p, scope, implicit ? 0 : off, implicit ? 0 : len, 1);
    if (e->value < 0) {
        int32_t *row = row_add(p, &p->r->t[MLP_NAMES]);
        row[0] = implicit ? -1 : off; row[1] = implicit ? 0 : len; row[2] = prefix;
        e = hfind(p, scope, implicit ? 0 : off, implicit ? 0 : len, 1);  /* row_add may not move the table */
        e->value = p->r->t[MLP_NAMES].n - 1;
        e->count = 1;
    }
    return e->value;
}

static int32_t new_value(P *p, int kind, int32_t owner, int32_t index, int32_t name_off, int32_t name_len) {
    int32_t *v = row_add(p, &p->r->t[MLP_VALUES]);
    v[0] = kind; v[1] = owner; v[2] = index; v[3] = name_off; v[4] = name_len; v[5] = 0; v[6] = 0;
    return p->r->t[MLP_VALUES].n - 1;
}

static void scratch_push(P *p, int kind, int32_t a, int32_t b, int32_t c) {
    int32_t *row = row_add(p, &p->scratch);
    row[0] = kind; row[1] = a; row[2] = b; row[3] = c;
}

/* ---------------------------------------------------------------- types and attributes */

static void parse_type(P *p);
static void parse_attr(P *p);

/* Current token opens a bracket; consume through its partner (strings and `->` lexed away).  Alias
   uses inside are not checked: the body of a dialect type or attribute is that dialect's text, and
   mlir-opt keeps it verbatim when the dialect is not loaded. */
static void skip_balanced(P *p) {
    char stack[512];
    int n = 0;
    int32_t start = p->t.off;
    p->peeking++;
    for (;;) {
        int k = p->t.kind;
        char want = 0;
        if (k == T_LPAREN) want = ')';
        else if (k == T_LSQ) want = ']';
        else if (k == T_LBRACE) want = '}';
        else if (k == T_LT) want = '>';
        if (want) {
            if (n == (int)sizeof stack) fail(p, p->t.off, "nesting too deep");
            stack[n++] = want;
        } else if (k == T_RPAREN || k == T_RSQ || k == T_RBRACE || k == T_GT) {
            char c = k == T_RPAREN ? ')' : k == T_RSQ ? ']' : k == T_RBRACE ? '}' : '>';
            if (n == 0 || stack[n - 1] != c) fail(p, p->t.off, "unbalanced '%c' character in pretty dialect name", c);
            n--;
        } else if (k == T_EOF) {
            fail(p, start, "unbalanced '%c' character in pretty dialect name", n ? stack[n - 1] : '>');
        } else if (k == T_MBEGIN || k == T_MEND) {
            fail(p, p->t.off, "unexpected file metadata delimiter");
        }
        next(p);
        if (n == 0) { p->peeking--; return; }
    }
}

/* Current token is the '<' right after `#dialect.name` or `!dialect.name`: consume the body through its
   partner byte by byte, as MLIR's parseDialectSymbolBody does.  Only brackets, `->` and strings are
   structure; anything else, `//` included, is the dialect's own text (and is not lexed, which is also
   what makes the llvm dialect's many `#llvm.x<...>` and `!llvm.x<...>` cheap). */
static void skip_dialect_body(P *p) {
    const char *s = p->s;
    const int32_t end = p->end;
    char stack[512];
    int n = 0;
    int32_t i = p->t.off, line = p->line;
    do {
        int c = i < end ? (unsigned char)s[i] : 0;
        if (c == 0) fail(p, n ? p->t.off : i, "unbalanced '%c' character in pretty dialect name", n ? stack[n - 1] : '<');
        i++;
        switch (c) {
        case '<': case '[': case '(': case '{':
            if (n == (int)sizeof stack) fail(p, i - 1, "nesting too deep");
            stack[n++] = (char)c;
            break;
        case '-':
            if (i < end && s[i] == '>') i++;
            break;
        case '>': case ']': case ')': case '}': {
            char open = c == '>' ? '<' : c == ']' ? '[' : c == ')' ? '(' : '{';
            if (stack[n - 1] != open)  /* reported where the body starts, as mlir-opt does */
                fail(p, p->t.off, "unbalanced '%c' character in pretty dialect name", stack[n - 1]);
            n--;
            break;
        }
        case '"':
            i = lex_string(p, i - 1);
            break;
        case '\n':
            line++;
            break;
        default:
            break;
        }
    } while (n > 0);
    /* the closing '>' becomes the current token, so that prev_end is right after the next() */
    p->line = line;
    p->t.off = i - 1;
    p->t.len = 1;
    p->t.kind = T_GT;
    p->pos = i;
    next(p);
}

static int is_int_type(const char *s, int32_t n) {
    int32_t i = 0;
    if (n >= 2 && (s[0] == 's' || s[0] == 'u') && s[1] == 'i') i = 2;
    else if (n >= 1 && s[0] == 'i') i = 1;
    else return 0;
    if (i >= n) return 0;
    for (; i < n; i++) if (!is_digit((unsigned char)s[i])) return 0;
    return 1;
}

static int is_float_type(const char *s, int32_t n) {
    static const char *names[] = {"f16", "f32", "f64", "f80", "f128", "bf16", "tf32", NULL};
    if (n < 3 || (s[0] != 'f' && s[0] != 'b' && s[0] != 't')) return 0;  /* the common miss, early */
    for (int i = 0; names[i]; i++) if ((size_t)n == strlen(names[i]) && memcmp(s, names[i], (size_t)n) == 0) return 1;
    /* f8E4M3FN, f4E2M1FN, f6E3M2FN, f8E8M0FNU ... */
    if (n >= 6 && s[0] == 'f' && is_digit((unsigned char)s[1]) && s[2] == 'E') return 1;
    return 0;
}

static int is_builtin_scalar(const char *s, int32_t n) {
    return is_int_type(s, n) || is_float_type(s, n) || (n == 5 && memcmp(s, "index", 5) == 0) ||
           (n == 4 && memcmp(s, "none", 4) == 0);
}

static int is_shaped_kw(const char *s, int32_t n) {
    static const char *names[] = {"tensor", "memref", "vector", "complex", "tuple", "opaque", NULL};
    for (int i = 0; names[i]; i++) if ((size_t)n == strlen(names[i]) && memcmp(s, names[i], (size_t)n) == 0) return 1;
    return 0;
}

static int32_t parse_type_list_parens(P *p) {
    /* current is '('; returns the number of types */
    int32_t n = 0;
    next(p);
    if (p->t.kind != T_RPAREN) {
        for (;;) {
            parse_type(p);
            n++;
            if (p->t.kind == T_COMMA) { next(p); continue; }
            break;
        }
    }
    expect(p, T_RPAREN, "')' in type list");
    return n;
}

/* Returns the number of result types. */
static int32_t parse_function_type(P *p) {
    if (p->t.kind != T_LPAREN) fail(p, p->t.off, "expected '('");
    parse_type_list_parens(p);
    expect(p, T_ARROW, "'->' in function type");
    if (p->t.kind == T_LPAREN) return parse_type_list_parens(p);
    parse_type(p);
    return 1;
}

/* Skip spaces and newlines from byte i (dimension lists are read byte by byte: `4x?xf32` is one token
   to the lexer, as it is to MLIR's, which splits it the same way). */
static int32_t skip_ws(P *p, int32_t i) {
    for (;;) {
        int c = at(p, i);
        if (c == '\n') { p->line++; i++; }
        else if (CLS[c + 1] & C_SPACE) i++;
        else return i;
    }
}

/* The body of tensor<...>, memref<...>, vector<...>, complex<...>, tuple<...>; current token is '<'. */
static void parse_builtin_body(P *p, const char *kw, int32_t kwlen) {
    int32_t lt = p->t.off;
    if (kwlen == 7 && memcmp(kw, "complex", 7) == 0) {
        next(p);
        parse_type(p);
        expect(p, T_GT, "'>' in complex type");
        return;
    }
    if (kwlen == 5 && memcmp(kw, "tuple", 5) == 0) {
        next(p);
        if (p->t.kind != T_GT) {
            for (;;) { parse_type(p); if (p->t.kind == T_COMMA) { next(p); continue; } break; }
        }
        expect(p, T_GT, "'>' in tuple type");
        return;
    }
    int is_vector = kwlen == 6 && memcmp(kw, "vector", 6) == 0;
    int32_t i = skip_ws(p, lt + 1);
    if (!is_vector && at(p, i) == '*') {   /* unranked */
        i = skip_ws(p, i + 1);
        if (at(p, i) != 'x') fail(p, i, "expected 'x' in dimension list");
        i++;
    } else {
        for (;;) {
            int32_t d = i;
            if (is_digit(at(p, i))) { while (is_digit(at(p, i))) i++; }
            else if (at(p, i) == '?' && !is_vector) i++;
            else if (at(p, i) == '[' && is_vector) {
                i = skip_ws(p, i + 1);
                if (!is_digit(at(p, i))) fail(p, i, "expected integer value");
                while (is_digit(at(p, i))) i++;
                i = skip_ws(p, i);
                if (at(p, i) != ']') fail(p, i, "missing ']' closing scalable dimension");
                i++;
            } else break;
            i = skip_ws(p, i);
            if (at(p, i) != 'x') {
                /* `0xf32`-style hex lookalikes never reach here: the digits stop at 'x' */
                fail(p, i, "expected 'x' in dimension list");
            }
            i++;
            (void)d;
            i = skip_ws(p, i);
        }
    }
    /* hand the rest back to the lexer: element type, then layout/encoding/memory space */
    p->pos = i;
    next(p);
    parse_type(p);
    while (p->t.kind == T_COMMA && !is_vector) {
        next(p);
        parse_attr(p);
    }
    if (p->t.kind != T_GT) fail(p, p->t.off, "expected '>' to close %.*s type", (int)kwlen, kw);
    next(p);
}

static void parse_type(P *p) {
    enter(p);
    tok t = p->t;
    const char *s = p->s + t.off;
    switch (t.kind) {
    case T_LPAREN:
        parse_function_type(p);
        break;
    case T_EXCL:
        next(p);
        if (p->t.kind == T_LT && p->t.off == t.off + t.len) skip_dialect_body(p);
        break;
    case T_BARE:
        if (is_builtin_scalar(s, t.len)) { next(p); break; }
        if (is_shaped_kw(s, t.len)) {
            next(p);
            if (p->t.kind != T_LT) fail(p, p->t.off, "expected '<' in %.*s type", (int)t.len, s);
            if (t.len == 6 && memcmp(s, "opaque", 6) == 0) { skip_balanced(p); break; }
            parse_builtin_body(p, s, t.len);
            break;
        }
        fail(p, t.off, "expected non-function type");
        break;
    default:
        fail(p, t.off, "expected non-function type");
    }
    p->depth--;
}

static void parse_dict(P *p) {
    /* current is '{' */
    enter(p);
    next(p);
    if (p->t.kind != T_RBRACE) {
        for (;;) {
            if (p->t.kind != T_BARE && p->t.kind != T_STRING)
                fail(p, p->t.off, "expected attribute name");
            next(p);
            if (p->t.kind == T_EQ) { next(p); parse_attr(p); }
            if (p->t.kind == T_COMMA) { next(p); continue; }
            break;
        }
    }
    expect(p, T_RBRACE, "'}' in attribute dictionary");
    p->depth--;
}

static void opt_colon_type(P *p) {
    if (p->t.kind == T_COLON) { next(p); parse_type(p); }
}

static void parse_attr(P *p) {
    enter(p);
    tok t = p->t;
    const char *s = p->s + t.off;
    switch (t.kind) {
    case T_LSQ:
        next(p);
        if (p->t.kind != T_RSQ) {
            for (;;) {
                parse_attr(p);
                if (p->t.kind == T_COMMA) { next(p); continue; }
                break;
            }
        }
        expect(p, T_RSQ, "']' in array attribute");
        break;
    case T_LBRACE:
        parse_dict(p);
        break;
    case T_STRING: case T_INT: case T_FLOAT:
        next(p);
        opt_colon_type(p);
        break;
    case T_MINUS:
        next(p);
        if (p->t.kind != T_INT && p->t.kind != T_FLOAT) fail(p, p->t.off, "expected constant integer or floating point value");
        next(p);
        opt_colon_type(p);
        break;
    case T_AT:
        next(p);
        while (p->t.kind == T_DCOLON) {
            next(p);
            if (p->t.kind != T_AT) fail(p, p->t.off, "expected nested symbol reference identifier");
            next(p);
        }
        break;
    case T_HASH:
        next(p);
        if (p->t.kind == T_LT && p->t.off == t.off + t.len) skip_dialect_body(p);
        opt_colon_type(p);
        break;
    case T_BARE:
        if (tok_is(p, t, "true") || tok_is(p, t, "false") || tok_is(p, t, "unit")) { next(p); break; }
        if (tok_is(p, t, "dense") || tok_is(p, t, "sparse") || tok_is(p, t, "dense_resource") ||
            tok_is(p, t, "array") || tok_is(p, t, "affine_map") || tok_is(p, t, "affine_set") ||
            tok_is(p, t, "strided") || tok_is(p, t, "distinct")) {
            next(p);
            if (tok_is(p, t, "distinct")) {
                if (p->t.kind != T_LSQ) fail(p, p->t.off, "expected '[' after 'distinct'");
                skip_balanced(p);
            }
            if (p->t.kind != T_LT) fail(p, p->t.off, "expected '<' after '%.*s'", (int)t.len, s);
            skip_balanced(p);
            if (!tok_is(p, t, "array") && !tok_is(p, t, "affine_map") && !tok_is(p, t, "affine_set") &&
                !tok_is(p, t, "strided") && !tok_is(p, t, "distinct"))
                opt_colon_type(p);
            break;
        }
        if (tok_is(p, t, "loc")) {
            next(p);
            if (p->t.kind != T_LPAREN) fail(p, p->t.off, "expected '(' in location");
            skip_balanced(p);
            break;
        }
        parse_type(p);
        break;
    case T_LPAREN: case T_EXCL:
        parse_type(p);
        break;
    default:
        fail(p, t.off, "expected attribute value");
    }
    p->depth--;
}

/* ---------------------------------------------------------------- operations */

static void parse_operation(P *p, int32_t scope, int32_t block);

static void link_op(P *p, int32_t op, int32_t block) {
    ROW(p, MLP_OPS, op)[MLP_OP_PARENT] = block;
    if (block < 0) return;
    int32_t *b = ROW(p, MLP_BLOCKS, block);
    if (b[5] < 0) b[4] = op;
    else ROW(p, MLP_OPS, b[5])[MLP_OP_NEXT] = op;
    b[5] = op;
    b[6]++;
}

static int32_t new_block(P *p, int32_t region, int32_t name_off, int32_t name_len, int32_t line) {
    int32_t *b = row_add(p, &p->r->t[MLP_BLOCKS]);
    int32_t idx = p->r->t[MLP_BLOCKS].n - 1;
    b[0] = region; b[2] = p->r->t[MLP_VALUES].n; b[3] = 0; b[6] = 0;
    b[7] = name_off; b[8] = name_len; b[9] = line;
    if (name_len <= 0) { b[7] = -1; b[8] = 0; }
    /* the region's last block, kept aside: walking the list made functions with thousands of blocks quadratic */
    while (p->rlast.n <= region) row_add(p, &p->rlast);
    int32_t *rg = ROW(p, MLP_REGIONS, region);
    int32_t last = p->rlast.v[region];
    if (rg[1] < 0) rg[1] = idx;
    else ROW(p, MLP_BLOCKS, last)[1] = idx;
    p->rlast.v[region] = idx;
    rg[2]++;
    return idx;
}

/* Values whose uses are not yet resolved: scratch rows [base, top) of kind S_DEF become block args. */
static void add_pending_args(P *p, int32_t block, int32_t region, int32_t base) {
    int32_t top = p->scratch.n;
    for (int32_t i = base; i < top; i++) {
        int32_t *row = p->scratch.v + (size_t)i * 4;
        if (row[0] != S_DEF) continue;
        int32_t *b = ROW(p, MLP_BLOCKS, block);
        int32_t v = new_value(p, 1, block, b[3], row[1], row[2]);
        ROW(p, MLP_BLOCKS, block)[3]++;
        if (row[3] >= 0) {
            int32_t *vr = ROW(p, MLP_VALUES, v);
            vr[5] = p->deftypes.v[(size_t)row[3] * 2];
            vr[6] = p->deftypes.v[(size_t)row[3] * 2 + 1];
        }
        define(p, region, row[1], row[2], v, 1, 0);
        row[0] = -1;  /* consumed */
    }
}

static void parse_block_label(P *p, int32_t region, int32_t block, int strict) {
    /* current token is after the ^name; optional (args), then ':' */
    if (p->t.kind == T_LPAREN) {
        next(p);
        if (p->t.kind != T_RPAREN) {
            for (;;) {
                if (p->t.kind != T_PERCENT) fail(p, p->t.off, "expected SSA operand");
                tok name = p->t;
                next(p);
                int32_t *b = ROW(p, MLP_BLOCKS, block);
                int32_t v = new_value(p, 1, block, b[3], name.off, name.len);
                ROW(p, MLP_BLOCKS, block)[3]++;
                define(p, region, name.off, name.len, v, 1, strict);
                expect(p, T_COLON, "':' and type for SSA operand");
                int32_t toff = p->t.off;
                parse_type(p);
                int32_t *vr = ROW(p, MLP_VALUES, v);
                vr[5] = toff; vr[6] = p->prev_end - toff;
                if (tok_is(p, p->t, "loc")) { next(p); if (p->t.kind != T_LPAREN) fail(p, p->t.off, "expected '(' in location"); skip_balanced(p); }
                if (p->t.kind == T_LBRACE) parse_dict(p);  /* argument attributes in some custom forms */
                if (p->t.kind == T_COMMA) { next(p); continue; }
                break;
            }
        }
        expect(p, T_RPAREN, "')' to end argument list");
    }
    expect(p, T_COLON, "':' after block name");
}

/* Implicit terminator to add to the single block of a pretty op's region, or -1. */
static int implicit_terminator(P *p, int32_t op) {
    int32_t *o = ROW(p, MLP_OPS, op);
    if (o[MLP_OP_FLAGS] & MLP_F_GENERIC) return -1;
    const char *s = p->s + o[MLP_OP_NAME_OFF];
    int32_t n = o[MLP_OP_NAME_LEN];
#define IS(w) ((size_t)n == strlen(w) && memcmp(s, w, (size_t)n) == 0)
    if (IS("scf.for") || IS("scf.if") || IS("scf.index_switch")) return 1;
    if (IS("scf.parallel")) return 2;
    if (IS("scf.forall")) return 3;
    if (IS("affine.for") || IS("affine.if") || IS("affine.parallel")) return 4;
    if (IS("memref.alloca_scope")) return 5;
    if (IS("shape.assuming")) return 6;
    if (IS("emitc.if") || IS("emitc.for")) return 7;
    if (IS("smt.forall") || IS("smt.exists")) return 8;
    if (IS("acc.global_ctor") || IS("acc.global_dtor") || IS("acc.atomic.capture")) return 9;
#undef IS
    return -1;
}

static void link_op(P *p, int32_t op, int32_t block);

static void add_implicit_op(P *p, int32_t block, int code, int32_t at_off) {
    int32_t *o = row_add(p, &p->r->t[MLP_OPS]);
    int32_t idx = p->r->t[MLP_OPS].n - 1;
    o[MLP_OP_NAME_OFF] = -1; o[MLP_OP_NAME_LEN] = 0; o[MLP_OP_PREFIX] = code; o[MLP_OP_FLAGS] = MLP_F_IMPLICIT;
    { int32_t id = intern_name(p, -1, 0, code, 1); ROW(p, MLP_OPS, p->r->t[MLP_OPS].n - 1)[MLP_OP_NAME_ID] = id; }
    o = ROW(p, MLP_OPS, p->r->t[MLP_OPS].n - 1);
    o[MLP_OP_RES_FIRST] = p->r->t[MLP_VALUES].n; o[MLP_OP_RES_COUNT] = 0;
    o[MLP_OP_OPD_FIRST] = p->r->t[MLP_OPERANDS].n; o[MLP_OP_OPD_COUNT] = 0;
    o[MLP_OP_REG_COUNT] = 0; o[MLP_OP_SUCC_FIRST] = p->r->t[MLP_SUCCS].n; o[MLP_OP_SUCC_COUNT] = 0;
    o[MLP_OP_ATTR_LEN] = 0; o[MLP_OP_PROP_LEN] = 0; o[MLP_OP_TYPE_LEN] = 0; o[MLP_OP_LOC_LEN] = 0;
    o[MLP_OP_SYM_LEN] = 0;
    o[MLP_OP_START] = at_off; o[MLP_OP_END] = at_off; o[MLP_OP_HDR_END] = at_off; o[MLP_OP_LINE] = p->t.line;
    link_op(p, idx, block);
}

/* Element type class of a type's text: 'f' float, 'i' integer, 0 unknown; *bits its width. */
static int elem_class(const char *s, int32_t n, int *bits) {
    while (n > 0 && (*s == ' ' || *s == '\n')) { s++; n--; }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n')) n--;
    if ((n > 7 && (memcmp(s, "tensor<", 7) == 0 || memcmp(s, "memref<", 7) == 0 || memcmp(s, "vector<", 7) == 0))) {
        const char *q = s + 7, *e = s + n;
        int d = 0;
        const char *last_x = q, *stop = e - 1;
        for (const char *c = q; c < e; c++) {
            if (*c == '<' || *c == '(' || *c == '[') d++;
            else if (*c == '>' || *c == ')' || *c == ']') { if (d == 0) { stop = c; break; } d--; }
            else if (d == 0 && *c == ',') { stop = c; break; }
            else if (d == 0 && *c == 'x') last_x = c + 1;
        }
        s = last_x;
        n = (int32_t)(stop - last_x);
    }
    if (n >= 2 && s[0] == 'f' && is_digit((unsigned char)s[1])) { *bits = atoi(s + 1); return 'f'; }
    if (n == 4 && (memcmp(s, "bf16", 4) == 0)) { *bits = 16; return 'f'; }
    if (n == 4 && (memcmp(s, "tf32", 4) == 0)) { *bits = 19; return 'f'; }
    if (n >= 2 && s[0] == 'i' && is_digit((unsigned char)s[1])) { *bits = atoi(s + 1); return 'i'; }
    if (n >= 3 && (s[0] == 's' || s[0] == 'u') && s[1] == 'i' && is_digit((unsigned char)s[2])) {
        *bits = atoi(s + 2); return 'i';
    }
    if (n == 5 && memcmp(s, "index", 5) == 0) { *bits = 64; return 'i'; }
    return 0;
}

/* Types after ':' in `word(... : T1, T2)` within [a, b): classes and widths of up to 4 of them. */
static int group_types(P *p, int32_t a, int32_t b, const char *word, int *cls, int *bits) {
    size_t wl = strlen(word);
    for (int32_t i = a; i + (int32_t)wl < b; i++) {
        if (memcmp(p->s + i, word, wl) != 0 || (i > a && is_bare((unsigned char)p->s[i - 1]))) continue;
        int32_t open = i + (int32_t)wl;
        while (open < b && p->s[open] == ' ') open++;
        if (open >= b || p->s[open] != '(') continue;
        int d = 0, n = 0;
        int32_t colon = -1, start = -1;
        for (int32_t j = open + 1; j < b; j++) {
            char c = p->s[j];
            if (c == '-' && j + 1 < b && p->s[j + 1] == '>') { j++; continue; }
            if (c == '"') { j++; while (j < b && p->s[j] != '"') { if (p->s[j] == '\\') j++; j++; } continue; }
            if (c == '(' || c == '[' || c == '<' || c == '{') { d++; continue; }
            if ((c == ')' || c == ']' || c == '>' || c == '}') && d > 0) { d--; continue; }
            if (d == 0 && c == ':' && colon < 0) { colon = j; start = j + 1; continue; }
            if (d == 0 && (c == ',' || c == ')') && colon >= 0) {
                if (n < 4) { cls[n] = elem_class(p->s + start, j - start, &bits[n]); n++; }
                start = j + 1;
            }
            if (d == 0 && c == ')') return n;
        }
        return n;
    }
    return 0;
}

static int cast_code(int fc, int fb, int tc, int tb) {
    if (!fc || !tc || (fc == tc && fb == tb)) return -1;
    if (fc == 'f' && tc == 'f') return fb < tb ? I_EXTF : I_TRUNCF;
    if (fc == 'i' && tc == 'i') return fb < tb ? I_EXTSI : I_TRUNCI;
    return fc == 'i' ? I_SITOFP : I_FPTOSI;
}

/* linalg named ops (linalg.matmul, linalg.add...) get their body from the op definition, not the text:
   build the same ops mlir-opt builds, for the ops whose body follows from the element types. */
static void add_linalg_body(P *p, int32_t op) {
    int32_t *o = ROW(p, MLP_OPS, op);
    if ((o[MLP_OP_FLAGS] & MLP_F_GENERIC) || o[MLP_OP_REG_COUNT] > 0 || o[MLP_OP_NAME_LEN] < 8) return;
    const char *s = p->s + o[MLP_OP_NAME_OFF];
    int32_t n = o[MLP_OP_NAME_LEN];
    if (memcmp(s, "linalg.", 7) != 0) return;
    const char *k = s + 7;
    int32_t kn = n - 7;
#define K(w) ((size_t)kn == strlen(w) && memcmp(k, w, (size_t)kn) == 0)
#define KP(w) ((size_t)kn > strlen(w) && memcmp(k, w, strlen(w)) == 0)
#define KS(w) ((size_t)kn > strlen(w) && memcmp(k + kn - strlen(w), w, strlen(w)) == 0)
    int ic[4] = {0}, ib[4] = {0}, oc[4] = {0}, ob[4] = {0};
    int nin = group_types(p, o[MLP_OP_START], o[MLP_OP_END], "ins", ic, ib);
    int nout = group_types(p, o[MLP_OP_START], o[MLP_OP_END], "outs", oc, ob);
    int body[12], nb = 0;
    int f = nout > 0 && oc[0] == 'f';
    int known = nout > 0 && oc[0] != 0;
    if (K("transpose") || K("broadcast")) {
        known = 1;
    } else if (K("copy") || K("fill")) {
        if (nin < 1) return;
        int c = cast_code(ic[0], ib[0], oc[0], ob[0]);
        if (c >= 0) body[nb++] = c;
    } else if (K("add") || K("sub") || K("mul") || K("div") || K("div_unsigned") || K("max") || K("min") ||
               K("powf")) {
        body[nb++] = K("add") ? (f ? I_ADDF : I_ADDI) : K("sub") ? (f ? I_SUBF : I_SUBI)
                   : K("mul") ? (f ? I_MULF : I_MULI) : K("div") ? (f ? I_DIVF : I_DIVSI)
                   : K("div_unsigned") ? I_DIVUI : K("max") ? (f ? I_MAXF : I_MAXSI)
                   : K("min") ? (f ? I_MINF : I_MINSI) : I_POWF;
    } else if (K("exp") || K("log") || K("abs") || K("ceil") || K("floor") || K("negf") || K("sqrt") ||
               K("rsqrt") || K("tanh") || K("erf") || K("square")) {
        body[nb++] = K("exp") ? I_EXP : K("log") ? I_LOG : K("abs") ? I_ABSF : K("ceil") ? I_CEIL
                   : K("floor") ? I_FLOOR : K("negf") ? I_NEGF : K("sqrt") ? I_SQRT : K("rsqrt") ? I_RSQRT
                   : K("tanh") ? I_TANH : K("erf") ? I_ERF : I_MULF;
    } else if (K("select")) {
        body[nb++] = I_SELECT;
    } else if ((K("matmul") || K("matvec") || K("vecmat") || K("dot") || KP("batch_") || K("mmt4d") ||
                KP("conv_") || KP("depthwise_conv_")) && !KS("_q")) {
        if (nin < 2) return;
        for (int i = 0; i < 2; i++) { int c = cast_code(ic[i], ib[i], oc[0], ob[0]); if (c >= 0) body[nb++] = c; }
        body[nb++] = f ? I_MULF : I_MULI;
        body[nb++] = f ? I_ADDF : I_ADDI;
    } else if (K("quantized_matmul") || K("quantized_batch_matmul")) {
        /* C += (cast(A) - cast(AZp)) * (cast(B) - cast(BZp)) */
        if (nin < 4) return;
        int order[4] = {0, 2, 1, 3};
        for (int i = 0; i < 4; i++) {
            int c = cast_code(ic[order[i]], ib[order[i]], oc[0], ob[0]);
            if (c >= 0) body[nb++] = c;
            if (i % 2 == 1) body[nb++] = f ? I_SUBF : I_SUBI;
        }
        body[nb++] = f ? I_MULF : I_MULI;
        body[nb++] = f ? I_ADDF : I_ADDI;
    } else if (KP("pooling_")) {
        if (nin < 1) return;
        int c = cast_code(ic[0], ib[0], oc[0], ob[0]);
        if (c >= 0) body[nb++] = c;
        if (KS("_sum")) body[nb++] = f ? I_ADDF : I_ADDI;
        else if (KS("_max_unsigned")) body[nb++] = I_MAXUI;
        else if (KS("_min_unsigned")) body[nb++] = I_MINUI;
        else if (KS("_max")) body[nb++] = f ? I_MAXF : I_MAXSI;
        else if (KS("_min")) body[nb++] = f ? I_MINF : I_MINSI;
        else return;
    } else {
        return;
    }
#undef K
#undef KP
#undef KS
    if (!known) return;
    body[nb++] = I_YIELD;
    int32_t *rg = row_add(p, &p->r->t[MLP_REGIONS]);
    int32_t region = p->r->t[MLP_REGIONS].n - 1;
    int32_t at_off = ROW(p, MLP_OPS, op)[MLP_OP_END];
    rg[0] = op; rg[1] = -1; rg[2] = 0; rg[3] = -1; rg[4] = at_off;
    o = ROW(p, MLP_OPS, op);
    o[MLP_OP_REG_FIRST] = region;
    o[MLP_OP_REG_COUNT] = 1;
    int32_t block = new_block(p, region, -1, 0, p->t.line);
    for (int i = 0; i < nb; i++) add_implicit_op(p, block, body[i], at_off);
}

/* Ops whose pretty form may leave their region out (function declarations, globals given by a value)
   still have it, empty, as in MLIR. */
static void add_empty_body(P *p, int32_t op) {
    int32_t *o = ROW(p, MLP_OPS, op);
    if ((o[MLP_OP_FLAGS] & MLP_F_GENERIC) || o[MLP_OP_REG_COUNT] > 0) return;
    const char *pre = PREFIXES[o[MLP_OP_PREFIX]];
    size_t pl = strlen(pre), n = (size_t)o[MLP_OP_NAME_LEN];
    char name[32];
    if (pl + n >= sizeof name) return;
    memcpy(name, pre, pl);
    memcpy(name + pl, p->s + o[MLP_OP_NAME_OFF], n);
    name[pl + n] = 0;
    if (strcmp(name, "func.func") && strcmp(name, "llvm.func") && strcmp(name, "gpu.func") &&
        strcmp(name, "llvm.mlir.global")) return;
    int32_t *rg = row_add(p, &p->r->t[MLP_REGIONS]);
    int32_t region = p->r->t[MLP_REGIONS].n - 1;
    rg[0] = op; rg[1] = -1; rg[2] = 0; rg[3] = -1; rg[4] = ROW(p, MLP_OPS, op)[MLP_OP_END];
    o = ROW(p, MLP_OPS, op);
    o[MLP_OP_REG_FIRST] = region;
    o[MLP_OP_REG_COUNT] = 1;
}

static void add_implicit_terminator(P *p, int32_t op, int32_t region) {
    int code = implicit_terminator(p, op);
    if (code < 0) return;
    int32_t *rg = ROW(p, MLP_REGIONS, region);
    int32_t block = rg[1];
    if (block < 0) block = new_block(p, region, -1, 0, p->t.line);
    else if (ROW(p, MLP_BLOCKS, block)[1] >= 0) return;  /* several blocks: not a single-block region */
    int32_t last = ROW(p, MLP_BLOCKS, block)[5];
    const char *want = IMPLICIT[code];
    if (last >= 0) {
        int32_t *l = ROW(p, MLP_OPS, last);
        int32_t pre = l[MLP_OP_PREFIX];
        size_t plen = (l[MLP_OP_FLAGS] & MLP_F_IMPLICIT) ? 0 : strlen(PREFIXES[pre]);
        if (!(l[MLP_OP_FLAGS] & MLP_F_IMPLICIT) && plen + (size_t)l[MLP_OP_NAME_LEN] == strlen(want) &&
            memcmp(PREFIXES[pre], want, plen) == 0 &&
            memcmp(p->s + l[MLP_OP_NAME_OFF], want + plen, (size_t)l[MLP_OP_NAME_LEN]) == 0)
            return;
    }
    int32_t *o = row_add(p, &p->r->t[MLP_OPS]);
    int32_t idx = p->r->t[MLP_OPS].n - 1;
    o[MLP_OP_NAME_OFF] = -1; o[MLP_OP_NAME_LEN] = 0; o[MLP_OP_PREFIX] = code; o[MLP_OP_FLAGS] = MLP_F_IMPLICIT;
    { int32_t id = intern_name(p, -1, 0, code, 1); ROW(p, MLP_OPS, p->r->t[MLP_OPS].n - 1)[MLP_OP_NAME_ID] = id; }
    o = ROW(p, MLP_OPS, p->r->t[MLP_OPS].n - 1);
    o[MLP_OP_RES_FIRST] = p->r->t[MLP_VALUES].n; o[MLP_OP_RES_COUNT] = 0;
    o[MLP_OP_OPD_FIRST] = p->r->t[MLP_OPERANDS].n; o[MLP_OP_OPD_COUNT] = 0;
    o[MLP_OP_REG_COUNT] = 0; o[MLP_OP_SUCC_FIRST] = p->r->t[MLP_SUCCS].n; o[MLP_OP_SUCC_COUNT] = 0;
    o[MLP_OP_ATTR_LEN] = 0; o[MLP_OP_PROP_LEN] = 0; o[MLP_OP_TYPE_LEN] = 0; o[MLP_OP_LOC_LEN] = 0;
    o[MLP_OP_SYM_LEN] = 0;
    int32_t end = ROW(p, MLP_OPS, op)[MLP_OP_END];
    o[MLP_OP_START] = end; o[MLP_OP_END] = end; o[MLP_OP_HDR_END] = end; o[MLP_OP_LINE] = p->t.line;
    link_op(p, idx, block);
}

static int32_t parse_region(P *p, int32_t op, int32_t scratch_base, int strict) {
    /* current is '{' */
    enter(p);
    int32_t *rg = row_add(p, &p->r->t[MLP_REGIONS]);
    int32_t region = p->r->t[MLP_REGIONS].n - 1;
    rg[0] = op; rg[1] = -1; rg[2] = 0; rg[3] = -1; rg[4] = p->t.off;
    int32_t pending_base = p->pending.n, succ_base = p->psuccs.n;
    int32_t *o = ROW(p, MLP_OPS, op);
    if (o[MLP_OP_REG_FIRST] < 0) o[MLP_OP_REG_FIRST] = region;
    else {
        int32_t k = o[MLP_OP_REG_FIRST];
        while (ROW(p, MLP_REGIONS, k)[3] >= 0) k = ROW(p, MLP_REGIONS, k)[3];
        ROW(p, MLP_REGIONS, k)[3] = region;
    }
    o[MLP_OP_REG_COUNT]++;
    next(p);
    int32_t block = -1;
    int have_defs = 0;
    for (int32_t i = scratch_base; i < p->scratch.n; i++) if (p->scratch.v[(size_t)i * 4] == S_DEF) have_defs = 1;
    if (p->t.kind != T_RBRACE || have_defs) {
        if (p->t.kind == T_CARET) {
            tok name = p->t;
            next(p);
            block = new_block(p, region, name.off, name.len, name.line);
            define(p, region, name.off, name.len, block, 1, strict);
            add_pending_args(p, block, region, scratch_base);
            parse_block_label(p, region, block, strict);
        } else {
            block = new_block(p, region, -1, 0, p->t.line);
            add_pending_args(p, block, region, scratch_base);
        }
    }
    while (p->t.kind != T_RBRACE) {
        if (p->t.kind == T_EOF) fail(p, p->t.off, "expected '}' to end region");
        if (p->t.kind == T_CARET) {
            tok name = p->t;
            next(p);
            block = new_block(p, region, name.off, name.len, name.line);
            define(p, region, name.off, name.len, block, 1, strict);
            parse_block_label(p, region, block, strict);
            continue;
        }
        parse_operation(p, region, block);
    }
    next(p);
    close_scope(p, region, pending_base, succ_base);
    p->depth--;
    return region;
}

static void finish_op(P *p, int32_t op, int32_t base) {
    /* move this op's scratch rows (operands, successors) into the tables */
    int32_t top = p->scratch.n;
    int32_t *o = ROW(p, MLP_OPS, op);
    o[MLP_OP_OPD_FIRST] = p->r->t[MLP_OPERANDS].n;
    o[MLP_OP_SUCC_FIRST] = p->r->t[MLP_SUCCS].n;
    int32_t nopd = 0, nsucc = 0;
    for (int32_t i = base; i < top; i++) {
        int32_t kind = p->scratch.v[(size_t)i * 4], a = p->scratch.v[(size_t)i * 4 + 1];
        int32_t b = p->scratch.v[(size_t)i * 4 + 2], c = p->scratch.v[(size_t)i * 4 + 3];
        if (kind == S_OPERAND) {
            int32_t *row = row_add(p, &p->r->t[MLP_OPERANDS]);
            row[0] = -1; row[1] = a; row[2] = b; row[3] = c;
            nopd++;
            int found = 0;
            for (int32_t sc = c;; sc = parent_scope(p, sc)) {
                if (lookup_use(p, row, sc)) { found = 1; break; }
                if (sc < 0) break;
            }
            if (!found) {
                int32_t *pr = row_add(p, &p->pending);
                pr[0] = p->r->t[MLP_OPERANDS].n - 1;
            }
        }
    }
    for (int32_t i = base; i < top; i++) {
        int32_t kind = p->scratch.v[(size_t)i * 4], a = p->scratch.v[(size_t)i * 4 + 1];
        int32_t b = p->scratch.v[(size_t)i * 4 + 2], c = p->scratch.v[(size_t)i * 4 + 3];
        if (kind == S_SUCC) {
            int32_t *row = row_add(p, &p->r->t[MLP_SUCCS]);
            row[0] = -1; row[1] = a; row[2] = b; row[3] = c;
            nsucc++;
            int32_t *pr = row_add(p, &p->psuccs);
            pr[0] = p->r->t[MLP_SUCCS].n - 1;
        }
    }
    o = ROW(p, MLP_OPS, op);
    o[MLP_OP_OPD_COUNT] = nopd;
    o[MLP_OP_SUCC_COUNT] = nsucc;
    p->scratch.n = base;
}

static void parse_use(P *p, int32_t scope) {
    /* current is %name; an attached #N is part of the use */
    tok t = p->t;
    int32_t len = t.len;
    if (at(p, t.off + t.len) == '#' && is_digit(at(p, t.off + t.len + 1))) {
        p->peeking++;
        next(p);
        p->peeking--;
        len = p->t.off + p->t.len - t.off;
    }
    scratch_push(p, S_OPERAND, t.off, len, scope);
    next(p);
}

static void parse_generic_body(P *p, int32_t op, int32_t scope, int32_t base) {
    /* current is the quoted name (already recorded) */
    next(p);
    expect(p, T_LPAREN, "'(' to start operand list");
    if (p->t.kind != T_RPAREN) {
        for (;;) {
            if (p->t.kind != T_PERCENT) fail(p, p->t.off, "expected SSA operand");
            parse_use(p, scope);
            if (p->t.kind == T_COMMA) { next(p); continue; }
            break;
        }
    }
    expect(p, T_RPAREN, "')' to end operand list");
    if (p->t.kind == T_LSQ) {
        next(p);
        for (;;) {
            if (p->t.kind != T_CARET) fail(p, p->t.off, "expected block name");
            scratch_push(p, S_SUCC, p->t.off, p->t.len, scope);
            next(p);
            if (p->t.kind == T_LPAREN) {  /* ^bb(%x : i32) successor operands */
                next(p);
                while (p->t.kind == T_PERCENT) { parse_use(p, scope); if (p->t.kind == T_COMMA) next(p); }
                if (p->t.kind == T_COLON) {
                    next(p);
                    for (;;) { parse_type(p); if (p->t.kind == T_COMMA) { next(p); continue; } break; }
                }
                expect(p, T_RPAREN, "')'");
            }
            if (p->t.kind == T_COMMA) { next(p); continue; }
            break;
        }
        expect(p, T_RSQ, "']' to end successor list");
    }
    if (p->t.kind == T_LT) {
        next(p);
        if (p->t.kind != T_LBRACE) fail(p, p->t.off, "expected '{' in properties");
        int32_t off = p->t.off;
        parse_dict(p);
        int32_t *o = ROW(p, MLP_OPS, op);
        o[MLP_OP_PROP_OFF] = off; o[MLP_OP_PROP_LEN] = p->prev_end - off;
        expect(p, T_GT, "'>' to close properties");
    }
    if (p->t.kind == T_LPAREN) {
        next(p);
        for (;;) {
            if (p->t.kind != T_LBRACE) fail(p, p->t.off, "expected '{' to begin a region");
            parse_region(p, op, p->scratch.n, 1);
            if (p->t.kind == T_COMMA) { next(p); continue; }
            break;
        }
        expect(p, T_RPAREN, "')' to end region list");
    }
    if (p->t.kind == T_LBRACE) {
        int32_t off = p->t.off;
        parse_dict(p);
        int32_t *o = ROW(p, MLP_OPS, op);
        o[MLP_OP_ATTR_OFF] = off; o[MLP_OP_ATTR_LEN] = p->prev_end - off;
    }
    expect(p, T_COLON, "':' followed by operation type");
    int32_t toff = p->t.off;
    if (p->t.kind != T_LPAREN) fail(p, p->t.off, "expected function type");
    int32_t ntypes = parse_function_type(p);
    if (ROW(p, MLP_OPS, op)[MLP_OP_RES_COUNT] == 0 && ntypes > 0) {
        /* results nobody names (`"a.b"() : () -> i32`) still exist */
        int32_t first = p->r->t[MLP_VALUES].n;
        for (int32_t k = 0; k < ntypes; k++) new_value(p, 0, op, k, -1, 0);
        ROW(p, MLP_OPS, op)[MLP_OP_RES_FIRST] = first;
        ROW(p, MLP_OPS, op)[MLP_OP_RES_COUNT] = ntypes;
    }
    int32_t *o = ROW(p, MLP_OPS, op);
    o[MLP_OP_TYPE_OFF] = toff; o[MLP_OP_TYPE_LEN] = p->prev_end - toff;
    o[MLP_OP_HDR_END] = p->prev_end;
    if (tok_is(p, p->t, "loc")) {
        int32_t off = p->t.off;
        next(p);
        if (p->t.kind != T_LPAREN) fail(p, p->t.off, "expected '(' in location");
        skip_balanced(p);
        o = ROW(p, MLP_OPS, op);
        o[MLP_OP_LOC_OFF] = off; o[MLP_OP_LOC_LEN] = p->prev_end - off;
    }
    finish_op(p, op, base);
}

/* Continuation keywords of common custom forms: a line that starts with one continues the op above. */
static int continuation_word(const char *s, int32_t n) {
    static const char *words[] = {"to", "step", "iter_args", "ins", "outs", "attributes", "into", "at", "in",
                                  "from", "by", "do", "else", "then", "with", "shared_outs", "init", "reduce",
                                  "dimensions", "permutation", "args", "blocks", "threads", "clusters",
                                  "dynamic_shared_memory_size", "low", "high", "nofold", "inner_dims_pos",
                                  "inner_tiles", "outer_dims_perm", "padding_value", "offsets", "sizes",
                                  "strides", "count", "source", "target", "body", "workgroup", "private",
                                  "kernel", "async", "dense", "affine_map", "array", "true", "false", "unit",
                                  "loc", "vector", "tensor", "memref", "complex", "tuple", "x", "max", "min",
                                  "floordiv", "ceildiv", "mod", "symbol", "mask", "pad", "case", "default", NULL};
    if (is_builtin_scalar(s, n)) return 1;
    for (int i = 0; words[i]; i++) if ((size_t)n == strlen(words[i]) && memcmp(s, words[i], (size_t)n) == 0) return 1;
    return 0;
}

static int prev_continues(int k) {
    return k == T_COMMA || k == T_COLON || k == T_ARROW || k == T_EQ || k == T_LPAREN || k == T_LSQ ||
           k == T_LT || k == T_DCOLON || k == T_PLUS || k == T_MINUS || k == T_STAR || k == T_LE || k == T_GE;
}

/* `%a, %b:2 =` ahead? (used to tell a statement start from a wrapped operand list) */
static int results_ahead(P *p) {
    lexstate s = save(p);
    int ok = 0;
    for (;;) {
        if (p->t.kind != T_PERCENT) break;
        next(p);
        if (p->t.kind == T_COLON) { next(p); if (p->t.kind != T_INT) break; next(p); }
        if (p->t.kind == T_COMMA) { next(p); continue; }
        ok = p->t.kind == T_EQ;
        break;
    }
    restore(p, s);
    return ok;
}

static int statement_start(P *p, int prev_kind) {
    tok t = p->t;
    if (prev_continues(prev_kind)) return 0;
    switch (t.kind) {
    case T_PERCENT: return results_ahead(p);
    case T_CARET: return 1;
    case T_STRING: return peek(p).kind == T_LPAREN;
    case T_HASH: case T_EXCL: return peek(p).kind == T_EQ;
    case T_MBEGIN: return 1;
    case T_BARE: {
        const char *s = p->s + t.off;
        if (memchr(s, '.', (size_t)t.len)) return 1;
        int c = at(p, t.off + t.len);
        if (c == '(' || c == '<' || c == '[') return 0;
        if (continuation_word(s, t.len)) return 0;
        tok n = peek(p);
        if (n.kind == T_EQ || n.kind == T_COLON || n.kind == T_COMMA) return 0;
        return 1;
    }
    default: return 0;
    }
}

static int name_has(const char *s, int32_t n, const char *w) {
    size_t k = strlen(w);
    for (int32_t i = 0; i + (int32_t)k <= n; i++) if (memcmp(s + i, w, k) == 0) return 1;
    return 0;
}

/* At a '{' inside a pretty op: region (1) or attribute dictionary (0)? */
static int looks_like_region(P *p) {
    lexstate s = save(p);
    next(p);
    tok n = p->t;
    int res;
    if (n.kind == T_CARET || n.kind == T_RBRACE) res = 1;
    /* no op starts with these: `{ @a -> @b }` and `{ 0, 1 }` are attribute-like groups even when wrapped */
    else if (n.kind == T_AT || n.kind == T_INT || n.kind == T_FLOAT || n.kind == T_HASH || n.kind == T_EXCL ||
             n.kind == T_LSQ || n.kind == T_LPAREN || n.kind == T_MINUS) res = 0;
    else if (n.kind == T_PERCENT) res = results_ahead(p);
    else if (n.kind == T_STRING) { next(p); res = p->t.kind == T_LPAREN; }
    else if (n.kind == T_BARE && n.nl && memchr(p->s + n.off, '.', (size_t)n.len)) res = 1;
    else if (n.kind == T_BARE) {
        next(p);
        if (p->t.kind == T_EQ) res = 0;
        else if (p->t.kind == T_COMMA) res = 0;
        else if (p->t.kind == T_COLON) res = n.nl && memchr(p->s + n.off, '.', (size_t)n.len) != NULL;
        else if (p->t.kind == T_RBRACE) {
            const char *w = p->s + n.off;
            res = n.nl || name_has(w, n.len, "yield") || name_has(w, n.len, "return") || name_has(w, n.len, "terminator") ||
                  name_has(w, n.len, "_end");
        } else res = 1;
    } else res = n.nl;
    restore(p, s);
    return res;
}

/* At '(' : is it `(%a, %b) =` or `(%a) in` (region arguments of scf.parallel, scf.forall, gpu.launch)? */
static int def_list_ahead(P *p) {
    lexstate s = save(p);
    next(p);
    int ok = 0;
    int any = 0;
    for (;;) {
        if (p->t.kind != T_PERCENT) break;
        any = 1;
        next(p);
        if (p->t.kind == T_COMMA) { next(p); continue; }
        if (p->t.kind == T_RPAREN) {
            next(p);
            ok = any && (p->t.kind == T_EQ || tok_is(p, p->t, "in"));
        }
        break;
    }
    restore(p, s);
    return ok;
}

/* whether a block is the top level or the body of a builtin.module (implicit or written) */
static int in_module_body(P *p, int32_t block) {
    if (block < 0) return 1;
    int32_t region = ROW(p, MLP_BLOCKS, block)[0];
    int32_t *o = ROW(p, MLP_OPS, ROW(p, MLP_REGIONS, region)[0]);
    if (o[MLP_OP_FLAGS] & MLP_F_IMPLICIT) return 1;
    const char *pre = PREFIXES[o[MLP_OP_PREFIX]], *nm = p->s + o[MLP_OP_NAME_OFF];
    int32_t n = o[MLP_OP_NAME_LEN];
    if (strcmp(pre, "builtin.") == 0) return n == 6 && memcmp(nm, "module", 6) == 0;
    return n == 14 && memcmp(nm, "builtin.module", 14) == 0;
}

static int enclosing_prefix(P *p, int32_t block) {
    if (block < 0) return 0;
    int32_t region = ROW(p, MLP_BLOCKS, block)[0];
    int32_t op = ROW(p, MLP_REGIONS, region)[0];
    int32_t *o = ROW(p, MLP_OPS, op);
    if (o[MLP_OP_FLAGS] & MLP_F_IMPLICIT) return 0;
    char name[64];
    const char *pre = PREFIXES[o[MLP_OP_PREFIX]];
    size_t pl = strlen(pre), n = (size_t)o[MLP_OP_NAME_LEN];
    if (pl + n >= sizeof name) return 0;
    memcpy(name, pre, pl);
    memcpy(name + pl, p->s + o[MLP_OP_NAME_OFF], n);
    name[pl + n] = 0;
    /* the default dialect of ops that declare one (OpAsmOpInterface::getDefaultDialect) */
    if (strcmp(name, "func.func") == 0) return 2;
    if (strncmp(name, "transform.", 10) == 0) return 3;
    if (strcmp(name, "spirv.module") == 0 || strcmp(name, "spirv.func") == 0) return 4;
    if (strncmp(name, "pdl.", 4) == 0) return 5;
    if (strncmp(name, "irdl.", 5) == 0) return 6;
    if (strcmp(name, "hw.module") == 0) return 7;
    if (strncmp(name, "pdl_interp.", 11) == 0) return 8;
    return 0;
}

/* A bracketed group inside a pretty op that is not a region: balanced, with its %uses recorded. */
static void scan_pretty_group(P *p, int32_t scope) {
    char stack[512];
    int n = 0;
    int32_t start = p->t.off;
    for (;;) {
        int k = p->t.kind;
        char want = k == T_LPAREN ? ')' : k == T_LSQ ? ']' : k == T_LBRACE ? '}' : k == T_LT ? '>' : 0;
        if (want) {
            if (n == (int)sizeof stack) fail(p, p->t.off, "nesting too deep");
            stack[n++] = want;
        } else if (k == T_RPAREN || k == T_RSQ || k == T_RBRACE || k == T_GT) {
            char c = k == T_RPAREN ? ')' : k == T_RSQ ? ']' : k == T_RBRACE ? '}' : '>';
            if (n == 0 || stack[n - 1] != c) fail(p, p->t.off, "unbalanced '%c'", c);
            n--;
        } else if (k == T_EOF) {
            fail(p, start, "expected '%c'", n ? stack[n - 1] : '}');
        } else if (k == T_MBEGIN || k == T_MEND) {
            fail(p, p->t.off, "unexpected file metadata delimiter");
        } else if (k == T_PERCENT) {
            parse_use(p, scope);
            continue;
        }
        next(p);
        if (n == 0) return;
    }
}

static void parse_pretty_body(P *p, int32_t op, int32_t scope, int32_t base) {
    /* current is the op name (already recorded) */
    int depth = 0, sig_depth = -1, after_at = 0;
    int32_t type_start = -1, type_end = -1;
    int type_done = 0;
    int prev = T_BARE;
    int32_t last_end = p->t.off + p->t.len;
    int32_t hdr_end = -1;
    next(p);
    for (;;) {
        tok t = p->t;
        if (t.kind == T_EOF) break;
        if (depth == 0) {
            if (t.kind == T_RBRACE || t.kind == T_RPAREN || t.kind == T_RSQ) break;
            if (t.nl && statement_start(p, prev)) break;
        }
        int cur_after_at = 0;
        switch (t.kind) {
        case T_LPAREN:
            if (def_list_ahead(p)) {
                next(p);
                while (p->t.kind == T_PERCENT) {
                    scratch_push(p, S_DEF, p->t.off, p->t.len, -1);
                    next(p);
                    if (p->t.kind == T_COMMA) next(p);
                }
                expect(p, T_RPAREN, "')'");
                prev = T_RPAREN;
                last_end = p->prev_end;
                continue;
            }
            if (after_at) sig_depth = depth + 1;
            depth++;
            break;
        case T_LT:  /* type and attribute parameters never hold regions */
            scan_pretty_group(p, scope);
            prev = T_GT;
            last_end = p->prev_end;
            if (type_start >= 0 && !type_done) type_end = last_end;
            continue;
        case T_LSQ:
            depth++;
            break;
        case T_RPAREN: case T_RSQ: case T_GT:
            if (depth > 0) depth--;
            if (depth < sig_depth) sig_depth = -1;
            break;
        case T_LBRACE: {
            int32_t pe = p->prev_end;
            int is_attrs = prev == T_BARE && pe - 10 >= p->begin && memcmp(p->s + pe - 10, "attributes", 10) == 0 &&
                           (pe - 10 == p->begin || !is_bare(at(p, pe - 11)));
            if (!is_attrs && looks_like_region(p)) {
                if (hdr_end < 0) hdr_end = p->prev_end;
                if (type_start >= 0) type_done = 1;  /* a region ends the trailing type */
                int32_t region = parse_region(p, op, base, 0);
                add_implicit_terminator(p, op, region);
                prev = T_RBRACE;
                last_end = p->prev_end;
                sig_depth = -1;
                continue;
            }
            int32_t off = t.off;
            if (is_attrs) parse_dict(p);
            else scan_pretty_group(p, scope);
            if (is_attrs || ROW(p, MLP_OPS, op)[MLP_OP_ATTR_LEN] <= 0) {
                int32_t *o = ROW(p, MLP_OPS, op);
                o[MLP_OP_ATTR_OFF] = off; o[MLP_OP_ATTR_LEN] = p->prev_end - off;
            }
            prev = T_RBRACE;
            last_end = p->prev_end;
            continue;
        }
        case T_PERCENT: {
            tok n = peek(p);
            if (n.kind == T_EQ) {
                scratch_push(p, S_DEF, t.off, t.len, -1);
                break;
            }
            if (depth == sig_depth && n.kind == T_COLON) {
                /* `%arg: type` of a signature: the type runs to the next ',' or ')' (or an attribute
                   dictionary / loc) at this depth */
                next(p);
                next(p);
                int32_t toff = p->t.off, tend = toff;
                int d = 0;
                for (;;) {
                    int k = p->t.kind;
                    if (k == T_EOF) break;
                    if (d == 0 && (k == T_COMMA || k == T_RPAREN || k == T_LBRACE || tok_is(p, p->t, "loc"))) break;
                    if (k == T_LPAREN || k == T_LSQ || k == T_LT || k == T_LBRACE) d++;
                    else if (k == T_RPAREN || k == T_RSQ || k == T_GT || k == T_RBRACE) d--;
                    next(p);
                    tend = p->prev_end;
                }
                int32_t *dt = row_add(p, &p->deftypes);
                dt[0] = toff;
                dt[1] = tend - toff;
                scratch_push(p, S_DEF, t.off, t.len, p->deftypes.n - 1);
                prev = T_BARE;
                last_end = p->prev_end;
                continue;
            }
            parse_use(p, scope);
            prev = T_PERCENT;
            last_end = p->prev_end;
            if (type_start >= 0 && !type_done) type_end = last_end;
            continue;
        }
        case T_CARET:
            scratch_push(p, S_SUCC, t.off, t.len, scope);
            break;
        case T_AT: {
            int32_t *o = ROW(p, MLP_OPS, op);
            if (o[MLP_OP_SYM_LEN] <= 0 && depth == 0) { o[MLP_OP_SYM_OFF] = t.off; o[MLP_OP_SYM_LEN] = t.len; }
            cur_after_at = 1;
            break;
        }
        case T_COLON:
            if (depth == 0) { type_start = p->pos; type_end = -1; type_done = 0; }
            break;
        case T_BARE:
            if (tok_is(p, t, "loc") && at(p, t.off + t.len) == '(') {
                int32_t off = t.off;
                next(p);
                skip_balanced(p);
                if (depth == 0) {
                    int32_t *o = ROW(p, MLP_OPS, op);
                    o[MLP_OP_LOC_OFF] = off; o[MLP_OP_LOC_LEN] = p->prev_end - off;
                }
                prev = T_RPAREN;
                last_end = p->prev_end;
                continue;
            }
            break;
        case T_MBEGIN: case T_MEND:
            fail(p, t.off, "unexpected file metadata delimiter");
            break;
        default:
            break;
        }
        after_at = cur_after_at;
        prev = t.kind;
        next(p);
        last_end = p->prev_end;
        if (type_start >= 0 && !type_done) type_end = last_end;
    }
    if (depth > 0) fail(p, p->t.off, "unbalanced brackets at the end of operation '%.*s'",
                        (int)ROW(p, MLP_OPS, op)[MLP_OP_NAME_LEN], p->s + ROW(p, MLP_OPS, op)[MLP_OP_NAME_OFF]);
    int32_t *o = ROW(p, MLP_OPS, op);
    o[MLP_OP_END] = last_end;
    o[MLP_OP_HDR_END] = hdr_end >= 0 ? hdr_end : last_end;
    if (type_start >= 0 && type_end > type_start) {
        while (type_start < type_end && (p->s[type_start] == ' ' || p->s[type_start] == '\n')) type_start++;
        o[MLP_OP_TYPE_OFF] = type_start; o[MLP_OP_TYPE_LEN] = type_end - type_start;
    } else o[MLP_OP_TYPE_LEN] = 0;
    finish_op(p, op, base);
    add_linalg_body(p, op);
    add_empty_body(p, op);
    /* defs never consumed by a region (no region followed) are dropped */
}

static void parse_operation(P *p, int32_t scope, int32_t block) {
    enter(p);
    int32_t start = p->t.off, line = p->t.line;
    int32_t res_base = p->scratch.n;
    int32_t nres = 0;
    /* result groups go to the scratch stack as (off, len, count) until the op row exists */
    if (p->t.kind == T_PERCENT) {
        for (;;) {
            if (p->t.kind != T_PERCENT) fail(p, p->t.off, "expected SSA operand");
            tok name = p->t;
            int32_t count = 1;
            next(p);
            if (p->t.kind == T_COLON) {
                next(p);
                if (p->t.kind != T_INT) fail(p, p->t.off, "expected integer number of results");
                long long c = strtoll(p->s + p->t.off, NULL, 0);
                if (c < 1 || c > 100000) fail(p, p->t.off, "expected named operation to have at least 1 result");
                count = (int32_t)c;
                next(p);
            }
            scratch_push(p, -2, name.off, name.len, count);
            nres += count;
            if (nres > 1000000) fail(p, name.off, "too many results");
            if (p->t.kind == T_COMMA) { next(p); continue; }
            break;
        }
        expect(p, T_EQ, "'=' after SSA name");
    }
    int generic;
    if (p->t.kind == T_STRING) generic = 1;
    else if (p->t.kind == T_BARE) generic = 0;
    else fail(p, p->t.off, nres ? "expected operation name in quotes" : "expected operation name");
    int32_t *o = row_add(p, &p->r->t[MLP_OPS]);
    int32_t op = p->r->t[MLP_OPS].n - 1;
    o[MLP_OP_FLAGS] = generic ? MLP_F_GENERIC : 0;
    o[MLP_OP_PREFIX] = 0;
    if (generic) { o[MLP_OP_NAME_OFF] = p->t.off + 1; o[MLP_OP_NAME_LEN] = p->t.len - 2; }
    else { o[MLP_OP_NAME_OFF] = p->t.off; o[MLP_OP_NAME_LEN] = p->t.len; }
    if (generic && p->t.len <= 2) fail(p, p->t.off, "empty operation name");
    o[MLP_OP_START] = start; o[MLP_OP_LINE] = line;
    o[MLP_OP_REG_COUNT] = 0; o[MLP_OP_ATTR_LEN] = 0; o[MLP_OP_PROP_LEN] = 0; o[MLP_OP_TYPE_LEN] = 0;
    o[MLP_OP_LOC_LEN] = 0; o[MLP_OP_SYM_LEN] = 0;
    if (!generic) {
        const char *s = p->s + p->t.off;
        int32_t n = p->t.len;
        p->any_pretty = 1;
        if (!memchr(s, '.', (size_t)n)) {
            if ((n == 6 && memcmp(s, "module", 6) == 0) || (n == 26 && memcmp(s, "unrealized_conversion_cast", 26) == 0))
                o[MLP_OP_PREFIX] = 1;
            else o[MLP_OP_PREFIX] = enclosing_prefix(p, block);
            /* a bare name at module level (prose, a stray word) names no op: builtin has none of
             * that name and nothing sets another default dialect there; mlir-opt's message */
            if (o[MLP_OP_PREFIX] == 0 && in_module_body(p, block))
                fail(p, p->t.off, "custom op '%.*s' is unknown (tried 'builtin.%.*s' as well)",
                     (int)(n > 64 ? 64 : n), s, (int)(n > 64 ? 64 : n), s);
        }
    }
    {
        int32_t *oo = ROW(p, MLP_OPS, op);
        int32_t id = intern_name(p, oo[MLP_OP_NAME_OFF], oo[MLP_OP_NAME_LEN], oo[MLP_OP_PREFIX], 0);
        ROW(p, MLP_OPS, op)[MLP_OP_NAME_ID] = id;
    }
    link_op(p, op, block);
    /* results */
    o = ROW(p, MLP_OPS, op);
    o[MLP_OP_RES_FIRST] = p->r->t[MLP_VALUES].n;
    o[MLP_OP_RES_COUNT] = nres;
    int32_t idx = 0;
    for (int32_t i = res_base; i < p->scratch.n; i++) {
        int32_t *g = p->scratch.v + (size_t)i * 4;
        int32_t goff = g[1], glen = g[2], gcount = g[3];
        int32_t first = p->r->t[MLP_VALUES].n;
        for (int32_t k = 0; k < gcount; k++) new_value(p, 0, op, idx++, goff, glen);
        define(p, scope, goff, glen, first, gcount, generic);
    }
    p->scratch.n = res_base;
    if (generic) parse_generic_body(p, op, scope, res_base);
    else parse_pretty_body(p, op, scope, res_base);
    o = ROW(p, MLP_OPS, op);
    if (generic) o[MLP_OP_END] = p->prev_end;
    p->depth--;
}

/* ---------------------------------------------------------------- top level and resolution */

static void parse_alias(P *p, int kind) {
    tok name = p->t;
    next(p);
    expect(p, T_EQ, "'='");
    int32_t off = p->t.off;
    if (kind == 0) parse_attr(p); else parse_type(p);
    int32_t *row = row_add(p, &p->r->t[MLP_ALIASES]);
    row[0] = kind; row[1] = name.off; row[2] = name.len; row[3] = off; row[4] = p->prev_end - off;
}

static void parse_top(P *p) {
    next(p);
    while (p->t.kind != T_EOF) {
        tok t = p->t;
        if ((t.kind == T_HASH || t.kind == T_EXCL) && peek(p).kind == T_EQ) {
            if (memchr(p->s + t.off, '.', (size_t)t.len))
                fail(p, t.off, "expected alias identifier to not contain a '.'");
            parse_alias(p, t.kind == T_EXCL);
        } else if (t.kind == T_MBEGIN) {
            int32_t off = t.off;
            next(p);
            while (p->t.kind != T_MEND) {
                if (p->t.kind == T_EOF) fail(p, off, "expected '#-}' to end file metadata");
                if (p->t.kind == T_LBRACE || p->t.kind == T_LPAREN || p->t.kind == T_LSQ || p->t.kind == T_LT)
                    skip_balanced(p);
                else next(p);
            }
            next(p);
            p->r->res_off = off;
            p->r->res_len = p->prev_end - off;
        } else {
            parse_operation(p, -1, -1);
        }
    }
}

static int32_t parent_scope(P *p, int32_t region) {
    int32_t op = ROW(p, MLP_REGIONS, region)[0];
    int32_t block = ROW(p, MLP_OPS, op)[MLP_OP_PARENT];
    return block < 0 ? -1 : ROW(p, MLP_BLOCKS, block)[0];
}

static void resolve(P *p) {
    table *ops = &p->r->t[MLP_OPERANDS];
    int32_t first_bad = -1;
    for (int32_t i = 0; i < p->pending.n; i++) {
        int32_t *row = ops->v + (size_t)p->pending.v[i] * 4;
        if (!lookup_use(p, row, -1) && (first_bad < 0 || row[1] < first_bad)) first_bad = row[1];
    }
    if (!p->any_pretty && p->bad_result_off >= 0) fail(p, p->bad_result_off, "reference to invalid result number");
    if (!p->any_pretty && first_bad >= 0) fail(p, first_bad, "use of undeclared SSA value name");
    if (p->psuccs.n > 0) fail(p, p->r->t[MLP_SUCCS].v[(size_t)p->psuccs.v[0] * 4 + 1], "reference to an undefined block");
    if (!p->any_pretty && p->bad_succ_off >= 0) fail(p, p->bad_succ_off, "reference to an undefined block");
    /* alias uses must be defined somewhere in the chunk (definitions may follow uses) */
    table *al = &p->r->t[MLP_ALIASES];
    for (int32_t i = 0; i < al->n; i++) {
        int32_t *row = al->v + (size_t)i * 5;
        hentry *e = hfind(p, -2, row[1], row[2], 1);
        if (e->value >= 0) fail(p, row[1], "redefinition of %s alias id '%.*s'", row[0] ? "type" : "attribute",
                                (int)row[2] - 1, p->s + row[1] + 1);
        e->value = i;
    }
    for (int32_t i = 0; i < p->auses.n; i++) {
        int32_t off = p->auses.v[(size_t)i * 2], len = p->auses.v[(size_t)i * 2 + 1];
        hentry *e = hfind(p, -2, off, len, 0);
        if (!e || e->value < 0)
            fail(p, off, "undefined symbol alias id '%.*s'", (int)len - 1, p->s + off + 1);
    }
}

static int is_module(P *p, int32_t op) {
    int32_t *o = ROW(p, MLP_OPS, op);
    const char *s = p->s + o[MLP_OP_NAME_OFF];
    int32_t n = o[MLP_OP_NAME_LEN];
    if (o[MLP_OP_FLAGS] & MLP_F_IMPLICIT) return 0;
    if (n == 14 && memcmp(s, "builtin.module", 14) == 0) return 1;
    return n == 6 && memcmp(s, "module", 6) == 0 && o[MLP_OP_PREFIX] == 1;
}

static void wrap_module(P *p) {
    int32_t nops = p->r->t[MLP_OPS].n;
    int32_t ntop = 0, first = -1;
    for (int32_t i = 0; i < nops; i++) if (ROW(p, MLP_OPS, i)[MLP_OP_PARENT] < 0) { ntop++; if (first < 0) first = i; }
    if (ntop == 1 && is_module(p, first)) { p->r->top = first; return; }
    int32_t *o = row_add(p, &p->r->t[MLP_OPS]);
    int32_t mod = p->r->t[MLP_OPS].n - 1;
    o[MLP_OP_NAME_OFF] = -1; o[MLP_OP_NAME_LEN] = 0; o[MLP_OP_PREFIX] = 0; o[MLP_OP_FLAGS] = MLP_F_IMPLICIT;
    { int32_t id = intern_name(p, -1, 0, 0, 1); ROW(p, MLP_OPS, p->r->t[MLP_OPS].n - 1)[MLP_OP_NAME_ID] = id; }
    o = ROW(p, MLP_OPS, p->r->t[MLP_OPS].n - 1);
    o[MLP_OP_RES_FIRST] = p->r->t[MLP_VALUES].n; o[MLP_OP_RES_COUNT] = 0;
    o[MLP_OP_OPD_FIRST] = p->r->t[MLP_OPERANDS].n; o[MLP_OP_OPD_COUNT] = 0;
    o[MLP_OP_REG_COUNT] = 0; o[MLP_OP_SUCC_FIRST] = p->r->t[MLP_SUCCS].n; o[MLP_OP_SUCC_COUNT] = 0;
    o[MLP_OP_ATTR_LEN] = 0; o[MLP_OP_PROP_LEN] = 0; o[MLP_OP_TYPE_LEN] = 0; o[MLP_OP_LOC_LEN] = 0;
    o[MLP_OP_SYM_LEN] = 0; o[MLP_OP_START] = p->begin; o[MLP_OP_END] = p->end; o[MLP_OP_HDR_END] = p->begin;
    o[MLP_OP_LINE] = 1;
    int32_t *rg = row_add(p, &p->r->t[MLP_REGIONS]);
    int32_t region = p->r->t[MLP_REGIONS].n - 1;
    rg[0] = mod; rg[1] = -1; rg[2] = 0; rg[3] = -1; rg[4] = p->begin;
    o = ROW(p, MLP_OPS, mod);
    o[MLP_OP_REG_FIRST] = region; o[MLP_OP_REG_COUNT] = 1;
    int32_t block = new_block(p, region, -1, 0, 1);
    for (int32_t i = 0; i < nops; i++) if (ROW(p, MLP_OPS, i)[MLP_OP_PARENT] < 0) {
        ROW(p, MLP_OPS, i)[MLP_OP_NEXT] = -1;
        link_op(p, i, block);
    }
    p->r->top = mod;
}

static void free_tables(mlp_result *r) {
    for (int i = 0; i < MLP_NTABLES; i++) { free(r->t[i].v); r->t[i].v = NULL; r->t[i].n = r->t[i].cap = 0; }
}

static int run(P *p) {
    if (setjmp(p->jb) != 0) return 0;
    parse_top(p);
    resolve(p);
    wrap_module(p);
    return 1;
}

mlp_result *mlp_parse(const char *src, size_t begin, size_t end) {
    static const int32_t widths[MLP_NTABLES] = {MLP_OP_WIDTH, MLP_VALUE_WIDTH, MLP_OPERAND_WIDTH, MLP_REGION_WIDTH,
                                                MLP_BLOCK_WIDTH, MLP_SUCC_WIDTH, MLP_ALIAS_WIDTH, MLP_NAME_WIDTH};
    init_classes();
    mlp_result *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    for (int i = 0; i < MLP_NTABLES; i++) r->t[i].width = widths[i];
    r->top = -1;
    P *p = calloc(1, sizeof *p);
    if (!p) { free(r); return NULL; }
    p->r = r;
    p->s = src;
    if (end > (size_t)INT32_MAX - 16 || begin > end) {
        r->error = 1;
        snprintf(r->msg, sizeof r->msg, "input larger than 2 GiB");
        free(p);
        return r;
    }
    p->begin = (int32_t)begin;
    p->end = (int32_t)end;
    p->pos = p->begin;
    p->line = 1;
    p->t.off = p->begin;
    p->scratch.width = 4;
    p->auses.width = 2;
    p->deftypes.width = 2;
    p->defstack.width = 3;
    p->pending.width = 1;
    p->bad_result_off = -1;
    p->psuccs.width = 1;
    p->rlast.width = 1;
    p->bad_succ_off = -1;
    if (!run(p)) {
        free_tables(r);
        r->top = -1;
    }
    free(p->h);
    free(p->scratch.v);
    free(p->auses.v);
    free(p->deftypes.v);
    free(p->defstack.v);
    free(p->pending.v);
    free(p->psuccs.v);
    free(p->rlast.v);
    free(p);
    return r;
}

void mlp_free(mlp_result *r) {
    if (!r) return;
    free_tables(r);
    free(r);
}

int mlp_error(const mlp_result *r, size_t *offset, const char **msg) {
    if (!r->error) return 0;
    *offset = (size_t)r->err_off;
    *msg = r->msg;
    return 1;
}

int mlp_table(const mlp_result *r, int which, const int32_t **rows, int *width) {
    if (which < 0 || which >= MLP_NTABLES) { *rows = NULL; *width = 0; return 0; }
    *rows = r->t[which].v;
    *width = r->t[which].width;
    return r->t[which].n;
}

int mlp_top(const mlp_result *r) { return r->top; }

int mlp_resources(const mlp_result *r, int *off, int *len) {
    *off = r->res_len > 0 ? r->res_off : 0;
    *len = r->res_len > 0 ? r->res_len : 0;
    return *len > 0;
}
