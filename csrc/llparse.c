/* llparse: LLVM IR text -> flat tables.  See llparse.h for the contract.
 *
 * Structure: a lexer turns the bytes into a token array (kind, keyword id, offset, length);
 * a recursive-descent parser walks it once and appends rows to int32 tables.  Errors longjmp
 * back to llp_parse(); every allocation hangs off the module, so llp_free() releases all of it
 * whatever state parsing stopped in.  Names are resolved the way LLVM's LLParser does: a use
 * before the definition creates a placeholder value, which the definition resolves; operands
 * and refs still naming placeholders are patched when the function (locals) or module
 * (globals) ends, and an unresolved placeholder is "use of undefined value".
 */
#define _GNU_SOURCE
#pragma GCC optimize("O3")   /* the lexer loops gain from it; the project builds with -O2 */
#include "llparse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define API __attribute__((visibility("default")))
#define MAX_DEPTH 512

/* ------------------------------------------------------------------ keywords */
#define OPCODES(X) \
    X(ret) X(br) X(switch) X(indirectbr) X(invoke) X(resume) X(unreachable) X(cleanupret) \
    X(catchret) X(catchswitch) X(callbr) X(fneg) X(add) X(fadd) X(sub) X(fsub) X(mul) X(fmul) \
    X(udiv) X(sdiv) X(fdiv) X(urem) X(srem) X(frem) X(shl) X(lshr) X(ashr) X(and) X(or) X(xor) \
    X(alloca) X(load) X(store) X(getelementptr) X(fence) X(cmpxchg) X(atomicrmw) X(trunc) X(zext) \
    X(sext) X(fptrunc) X(fpext) X(fptoui) X(fptosi) X(uitofp) X(sitofp) X(ptrtoint) X(ptrtoaddr) \
    X(inttoptr) X(bitcast) X(addrspacecast) X(cleanuppad) X(catchpad) X(icmp) X(fcmp) X(phi) \
    X(call) X(select) X(va_arg) X(extractelement) X(insertelement) X(shufflevector) \
    X(extractvalue) X(insertvalue) X(landingpad) X(freeze)

#define FLAGS(X) \
    X(nuw) X(nsw) X(exact) X(disjoint) X(nneg) X(samesign) X(inbounds) X(nusw) X(inrange) \
    X(volatile) X(atomic) X(weak) X(tail) X(musttail) X(notail) X(fast) X(nnan) X(ninf) X(nsz) \
    X(arcp) X(contract) X(afn) X(reassoc) X(inalloca) X(swifterror) X(cleanup)

#define OTHERKW(X) \
    X(void) X(half) X(bfloat) X(float) X(double) X(x86_fp80) X(fp128) X(ppc_fp128) X(label) \
    X(metadata) X(token) X(x86_amx) X(x86_mmx) X(ptr) X(opaque) X(target) X(type) X(addrspace) \
    X(x) X(vscale) X(to) X(true) X(false) X(null) X(undef) X(poison) X(zeroinitializer) X(none) \
    X(blockaddress) X(dso_local_equivalent) X(no_cfi) X(ptrauth) X(asm) X(splat) X(define) \
    X(declare) X(global) X(constant) X(alias) X(ifunc) X(attributes) X(source_filename) \
    X(datalayout) X(triple) X(module) X(comdat) X(uselistorder) X(uselistorder_bb) X(deplibs) \
    X(external) X(extern_weak) X(within) X(from) X(caller) X(catch) X(filter) X(syncscope) \
    X(align) X(unordered) X(monotonic) X(acquire) X(release) X(acq_rel) X(seq_cst) \
    X(personality) X(prefix) X(prologue) X(distinct) X(thread_local) X(section) X(partition) \
    X(gc) X(unwind) X(sideeffect) X(alignstack) X(inteldialect) X(cc) X(dbg_value) \
    X(dbg_declare) X(dbg_assign) X(dbg_label) X(dbg_declare_value) X(DIArgList)

enum {
    KW_NONE = 0,
#define X(n) OP_##n,
    OPCODES(X)
#undef X
    OP_END,
#define X(n) FL_##n,
    FLAGS(X)
#undef X
    FL_END,
#define X(n) KW_##n,
    OTHERKW(X)
#undef X
    KW_END
};
#define FLAG_BIT(kw) (1u << ((kw) - FL_nuw))
#define IS_OPCODE(kw) ((kw) > KW_NONE && (kw) < OP_END)
#define IS_FLAG(kw) ((kw) > OP_END && (kw) < FL_END)

static const char *const KW_TEXT[] = {
    "",
#define X(n) #n,
    OPCODES(X) "", FLAGS(X) "", OTHERKW(X)
#undef X
};

/* ------------------------------------------------------------------ tokens */
enum {
    T_EOF = 0, T_LOCAL, T_GLOBAL, T_COMDAT, T_METAVAR, T_EXCLAIM, T_ATTRGRP, T_HASHKW, T_SUMMARY,
    T_INT, T_FP, T_STRING, T_CSTRING, T_LABEL, T_KW, T_INTTYPE, T_LPAREN, T_RPAREN, T_LSQ, T_RSQ,
    T_LBRACE, T_RBRACE, T_LT, T_GT, T_COMMA, T_EQ, T_STAR, T_BAR, T_DOTS, T_COLON
};

typedef struct {
    uint8_t kind;
    uint16_t kw;      /* keyword id for T_KW, width for T_INTTYPE (0 = too wide, see text) */
    uint32_t off, len;
    int32_t num;      /* N of an unquoted %N/@N/$N of at most 9 digits (the slot number), else -1 */
} tok_t;

#define TBUF 512   /* the token buffer, see refill() */

/* ------------------------------------------------------------------ growable arrays */
typedef struct { int32_t *d; size_t n, cap; int w; } tab_t;

struct llp_module {
    const char *src;
    size_t len;
    jmp_buf jb;
    int failed;
    size_t err_off;
    int err_line, err_col;
    char err_msg[256];
    tab_t t[LLP_NTABLES];
    char *ttext; size_t ttext_n, ttext_cap;   /* type text pool */
    /* parser state */
    tok_t *tp, *tlim;                           /* the cursor; the end of the tokens lexed so far */
    tok_t toks[TBUF];                           /* TBUF tokens, see refill(); lookahead is at most 2 */
    size_t lex_i;
    jmp_buf lex_jb;                             /* a lexical error, held back until its token is wanted */
    int lex_err;
    size_t lex_err_off;
    char lex_msg[128];
    size_t pos;
    int depth;
    int32_t *scr; size_t scr_n, scr_cap;        /* int scratch stack */
    char *cscr; size_t cscr_n, cscr_cap;        /* char scratch stack (type texts) */
    /* hash maps: open addressing over int32 ids; keys live in the source or type pool */
    int32_t *gmap; size_t gmap_cap, gmap_n;      /* global names -> vid */
    int32_t *lmap; size_t lmap_cap, lmap_n;      /* local names -> vid */
    int32_t *nmap; size_t nmap_cap, nmap_n;      /* named types -> NAMED row */
    int32_t *tmap; size_t tmap_cap, tmap_n;      /* type text -> type id */
    uint64_t *cmap; size_t cmap_cap, cmap_n;     /* (type, text) of leaf constants -> CONSTS row, uniqued as LLVM
                                                    does; an entry is hash << 32 | row, all ones when empty */
    int32_t *gnum; size_t gnum_n, gnum_cap;      /* @N -> vid */
    int32_t *lnum; size_t lnum_n, lnum_cap;      /* %N -> vid */
    int32_t *tnum; size_t tnum_n, tnum_cap;      /* %N type -> NAMED row */
    uint32_t *keyoff; uint32_t *keylen; size_t keyoff_cap, keylen_cap;   /* name key per vid, set for named defs and FWD only */
    int32_t kwtype[KW_END];
    int32_t vcache[256][4];                      /* (element, count, scalable, id + 1) of vector types */
    int32_t inttype[129];
    int32_t cur_func, cur_block, next_local, next_global;
    int32_t t_i1, t_i32, t_ptr, t_void, t_label, t_token, t_metadata;
    int alloca_as;
    size_t nfwd;                                 /* placeholders made so far */
    int32_t fwd_since;                           /* the first placeholder made in this function, or -1 */
    size_t func_op_start, func_ref_start, func_val_start;
    /* operand/ref ranges that may name a global placeholder: (op_lo, op_hi, ref_lo, ref_hi) each;
     * the module-end patch looks only there */
    size_t *gfwd; size_t gfwd_n, gfwd_cap;
    int gfwd_open;
};

static void fail(llp_module *m, size_t off, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
static void fail(llp_module *m, size_t off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err_msg, sizeof m->err_msg, fmt, ap);
    va_end(ap);
    if (off > m->len) off = m->len;
    m->err_off = off;
    m->failed = 1;
    longjmp(m->jb, 1);
}

/* The output tables of a large module are tens of MB written once, front to back: with 4 KiB
 * pages a quarter of the parse went to page faults.  An array of MAP_MIN bytes or more lives in
 * its own anonymous mapping advised for transparent huge pages (512x fewer faults where THP is
 * "madvise" or "always") and grows by mremap, which moves page tables instead of copying bytes.
 * Whether an array is mapped follows from its capacity alone, so frees need no flag. */
#define MAP_MIN ((size_t)2 << 20)
#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define USE_MAP 1
#else
#define USE_MAP 0
#endif
#if USE_MAP
/* Freed mappings wait here for the next parse instead of going back to the kernel: a fresh
 * mapping costs a zeroed page at each first touch (in a VM often a host fault as well), a sixth
 * of a large parse.  A corpus walk parses file after file, so each array gets back the region
 * it had last time, keyed by where its capacity lives in llp_module; the whole region is its
 * capacity, so it rarely grows again.  Bounded in count and bytes; shared by threads. */
#include <pthread.h>
#define POOL_N 24
#define POOL_MAX ((size_t)256 << 20)
static struct { size_t key; void *p; size_t bytes; } pool[POOL_N];
static int pool_n;
static size_t pool_bytes;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* a mapping of at least `bytes` (a multiple of MAP_MIN) for array `key`; its size in *got */
static void *region_get(size_t key, size_t bytes, size_t *got) {
    void *q = NULL;
    size_t have = 0;
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < pool_n; i++)
        if (pool[i].key == key) {
            q = pool[i].p; have = pool[i].bytes;
            pool_bytes -= have;
            pool[i] = pool[--pool_n];
            break;
        }
    pthread_mutex_unlock(&pool_lock);
    if (q && have < bytes) {
        void *r = mremap(q, have, bytes, MREMAP_MAYMOVE);
        if (r == MAP_FAILED) munmap(q, have);
        q = r == MAP_FAILED ? NULL : r;
        have = bytes;
    }
    if (!q) {
        q = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (q == MAP_FAILED) return NULL;
        madvise(q, bytes, MADV_HUGEPAGE);
        have = bytes;
    }
    *got = have;
    return q;
}

static void region_put(size_t key, void *p, size_t bytes) {
    pthread_mutex_lock(&pool_lock);
    int i = 0;
    while (i < pool_n && pool[i].key != key) i++;
    if (i < pool_n && pool[i].bytes < bytes) {   /* keep the larger of two regions for one array */
        void *t = pool[i].p; size_t tb = pool[i].bytes;
        pool_bytes += bytes - tb;
        pool[i].p = p; pool[i].bytes = bytes;
        p = t; bytes = tb;
    } else if (i == pool_n && pool_n < POOL_N && pool_bytes + bytes <= POOL_MAX) {
        pool[pool_n].key = key; pool[pool_n].p = p; pool[pool_n].bytes = bytes;
        pool_n++;
        pool_bytes += bytes;
        p = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    if (p) munmap(p, bytes);
}
#endif

/* the pool key of the array whose capacity is *cap (a field of m) */
#define KEY(m, cap) ((size_t)((const char *)(cap) - (const char *)(m)))

static void mem_free(llp_module *m, void *p, size_t *cap, size_t elt) {
#if USE_MAP
    if (p && *cap * elt >= MAP_MIN) { region_put(KEY(m, cap), p, *cap * elt); return; }
#endif
    free(p);
}

static void *grow_slow(llp_module *m, void *p, size_t *cap, size_t need, size_t elt) {
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    size_t old = *cap * elt, bytes = nc * elt;
    void *q;
#if USE_MAP
    if (bytes >= MAP_MIN) {
        bytes = (bytes + MAP_MIN - 1) & ~(MAP_MIN - 1);   /* elt divides MAP_MIN */
        if (old >= MAP_MIN) {
            q = mremap(p, old, bytes, MREMAP_MAYMOVE);
            if (q == MAP_FAILED) q = NULL;
        } else {
            q = region_get(KEY(m, cap), bytes, &bytes);
            if (q) {
                if (old) memcpy(q, p, old);
                free(p);
            }
        }
        if (!q) fail(m, m->lex_i, "out of memory");
        *cap = bytes / elt;
        return q;
    }
#endif
    q = realloc(p, bytes);
    if (!q) fail(m, m->lex_i, "out of memory");
    *cap = nc;
    return q;
}

static inline void *grow(llp_module *m, void *p, size_t *cap, size_t need, size_t elt) {
    if (__builtin_expect(need <= *cap, 1)) return p;
    return grow_slow(m, p, cap, need, elt);
}

static const int WIDTHS[LLP_NTABLES] = {3, 18, 8, 20, 6, 12, 8, 1, 4, 8, 1, 3, 7, 5, 1};

/* append scratch entries [from, scr_n) to a width-1 table */
static void append_scr(llp_module *m, int which, size_t from) {
    tab_t *t = &m->t[which];
    size_t k = m->scr_n - from;
    if (!k) return;
    t->d = grow(m, t->d, &t->cap, t->n + k, sizeof(int32_t));
    int32_t *d = t->d + t->n;
    const int32_t *s = m->scr + from;
    if (k <= 8) { for (size_t i = 0; i < k; i++) d[i] = s[i]; }   /* an instruction's few operands */
    else memcpy(d, s, k * sizeof(int32_t));
    t->n += k;
}

/* `which` is a constant at every call, so the width folds and the -1 fill unrolls */
/* a new row, unfilled: for callers that set every column */
static inline __attribute__((always_inline)) int32_t *row_raw(llp_module *m, int which) {
    tab_t *t = &m->t[which];
    const size_t w = (size_t)WIDTHS[which];
    if (__builtin_expect((t->n + 1) * w > t->cap, 0)) t->d = grow_slow(m, t->d, &t->cap, (t->n + 1) * w, sizeof(int32_t));
    int32_t *r = t->d + t->n * w;
    t->n++;
    return r;
}
static inline __attribute__((always_inline)) int32_t *row(llp_module *m, int which) {
    int32_t *r = row_raw(m, which);
    for (int i = 0; i < WIDTHS[which]; i++) r[i] = -1;
    return r;
}
#define NROWS(m, tb) ((int32_t)(m)->t[tb].n)
#define ROW(m, tb, i) ((m)->t[tb].d + (size_t)(i) * (m)->t[tb].w)

static inline void push(llp_module *m, int32_t v) {
    m->scr = grow(m, m->scr, &m->scr_cap, m->scr_n + 1, sizeof(int32_t));
    m->scr[m->scr_n++] = v;
}
static void cpush(llp_module *m, const char *s, size_t n) {
    m->cscr = grow(m, m->cscr, &m->cscr_cap, m->cscr_n + n, 1);
    memcpy(m->cscr + m->cscr_n, s, n);
    m->cscr_n += n;
}
static void cputs(llp_module *m, const char *s) { cpush(m, s, strlen(s)); }

/* ------------------------------------------------------------------ keyword table */
static uint8_t id_tab[256], ws_tab[256], kwc_tab[256], idx_tab[256];
static int kw_ready;

/* names, constant texts and type texts: a word at a time (only slot positions depend on it) */
static uint32_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    if (n & 4) { uint32_t x; memcpy(&x, s, 4); w = x; s += 4; }
    if (n & 2) { uint16_t x; memcpy(&x, s, 2); w = (w << 16) | x; s += 2; }
    if (n & 1) w = (w << 8) | (uint8_t)*s;
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdull;
    return (uint32_t)(h ^ (h >> 32));
}

static uint8_t kw_len[KW_END];
#define KW_MAXLEN 24
static uint64_t kw_words[KW_END][3];   /* keyword text, zero-padded, loaded as words */
static uint64_t kw_mask[9];            /* low n bytes set */

/* A perfect hash of (first 8 bytes, length, last byte): every identifier costs one probe and one
 * compare, keyword or not.  The multiplier is searched for at start-up (a few dozen tries), so
 * the keyword list can change without anyone recomputing a constant. */
#define KW_HBITS 12
static uint8_t kw_slot[1u << KW_HBITS];
static uint64_t kw_mult;
_Static_assert(KW_END < 256, "keyword ids must fit the uint8_t hash slots");

static inline uint32_t kw_hash_of(uint64_t w0, size_t n, unsigned char last) {
    uint64_t k = w0 ^ ((uint64_t)n << 58) ^ ((uint64_t)last << 40);
    return (uint32_t)((k * kw_mult) >> (64 - KW_HBITS));
}

static inline uint64_t kw_first_word(const char *s, size_t n, size_t room) {
    uint64_t w = 0;
    if (room >= 8) { memcpy(&w, s, 8); return w & kw_mask[n < 8 ? n : 8]; }
    memcpy(&w, s, n < 8 ? n : 8);   /* n <= room here */
    return w;
}

static void kw_init(void) {
    if (kw_ready) return;
    for (int c = 0; c < 256; c++)
        id_tab[c] = (uint8_t)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == '-' || c == '$' || c == '.' || c == '_');
    for (int c = 0; c < 256; c++) kwc_tab[c] = (uint8_t)(id_tab[c] && c != '-' && c != '$' && c != '.');
    for (int c = 0; c < 256; c++) idx_tab[c] = (uint8_t)(id_tab[c] || c == ':' || c == '"');
    for (int k = 1; k < KW_END; k++) {
        kw_len[k] = (uint8_t)strlen(KW_TEXT[k]);
        unsigned char pad[24] = {0};
        memcpy(pad, KW_TEXT[k], kw_len[k] < 24 ? kw_len[k] : 24);
        memcpy(kw_words[k], pad, 24);
    }
    for (int b = 0; b <= 8; b++) {   /* the first b bytes in memory order, whatever the byte order */
        unsigned char ff[8] = {0};
        memset(ff, 0xff, (size_t)b);
        memcpy(&kw_mask[b], ff, 8);
    }
    ws_tab[' '] = ws_tab['\t'] = ws_tab['\n'] = ws_tab['\r'] = ws_tab['\f'] = ws_tab['\v'] = 1;
    for (uint64_t seed = 0x9e3779b97f4a7c15ull;; seed = seed * 6364136223846793005ull + 1442695040888963407ull) {
        kw_mult = seed | 1;
        memset(kw_slot, 0, sizeof kw_slot);
        int ok = 1;
        for (int k = 1; k < KW_END && ok; k++) {
            size_t n = kw_len[k];
            if (!n) continue;
            uint32_t h = kw_hash_of(kw_words[k][0], n, (unsigned char)KW_TEXT[k][n - 1]);
            if (kw_slot[h]) ok = 0;
            else kw_slot[h] = (uint8_t)k;
        }
        if (ok) break;
    }
    kw_ready = 1;
}
__attribute__((constructor)) static void kw_ctor(void) { kw_init(); }

/* `room`: bytes readable from s (at least n); with 24 of them a keyword compares as 3 words */
static inline int kw_lookup(const char *s, size_t n, size_t room) {
    if (n == 0 || n > KW_MAXLEN) return KW_NONE;
    uint64_t w0 = kw_first_word(s, n, room);
    int k = kw_slot[kw_hash_of(w0, n, (unsigned char)s[n - 1])];
    if (kw_len[k] != n) return KW_NONE;   /* kw_len[KW_NONE] is 0 */
    const uint64_t *w = kw_words[k];
    if (w0 != w[0]) return KW_NONE;
    if (n <= 8) return k;
    if (room >= 24) {
        uint64_t a[2];
        memcpy(a, s + 8, 16);
        if (n <= 16) return (a[0] & kw_mask[n - 8]) == w[1] ? k : KW_NONE;
        return a[0] == w[1] && (a[1] & kw_mask[n - 16]) == w[2] ? k : KW_NONE;
    }
    return memcmp(s, KW_TEXT[k], n) == 0 ? k : KW_NONE;
}

/* ------------------------------------------------------------------ lexer */
/* Lexing runs ahead of the parser in batches (one call per ~BATCH tokens instead of one per token).
 * A lexical error is held back until the parser asks for the token it stopped at, so errors come
 * out exactly where and in the order that lexing each token on demand would give them.
 * Tokens sit in a flat buffer that the cursor walks as a plain pointer (no index masking); when a
 * batch would not fit, the tokens from KEEP behind the cursor on move to the front.  The old copies
 * stay untouched until lexing comes round again, so the pointers callers hold briefly stay good. */
#define BATCH 128
#define KEEP 8   /* tokens behind the cursor that stay valid; the one just behind gives prev_end */
_Static_assert(TBUF > 2 * (BATCH + 2 * KEEP), "moved tokens and the next batch must not reach the old copies");

static inline int is_id(int c) { return id_tab[c & 255]; }

#if defined(__SSE2__)
/* bit k set when s[k] (k < 16) is in [a-zA-Z0-9_], or with `wide` also in [-$.] (LLVM's name bytes) */
static inline unsigned id_bits16(const char *s, int wide) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i bias = _mm_set1_epi8((char)0x80);   /* x <u k as a signed compare */
    __m128i letter = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    letter = _mm_cmplt_epi8(_mm_xor_si128(letter, bias), _mm_set1_epi8((char)(26 - 128)));
    __m128i digit = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    digit = _mm_cmplt_epi8(_mm_xor_si128(digit, bias), _mm_set1_epi8((char)(10 - 128)));
    __m128i ok = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
    if (wide)
        ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
                                           _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('$')),
                                                        _mm_cmpeq_epi8(v, _mm_set1_epi8('.')))));
    return (unsigned)_mm_movemask_epi8(ok);
}
#endif

/* the end of the run of [a-zA-Z0-9_] (or with `wide` LLVM name bytes) from e; 16 bytes a step while
 * 16 remain, which covers nearly every keyword and name in one step */
static inline size_t scan_run(const char *s, size_t e, size_t n, int wide) {
#if defined(__SSE2__)
    while (e + 16 <= n) {
        unsigned stop = ~id_bits16(s + e, wide) & 0xffffu;
        if (stop) return e + (size_t)__builtin_ctz(stop);
        e += 16;
    }
#endif
    const uint8_t *tab = wide ? id_tab : kwc_tab;
    while (e < n && tab[(unsigned char)s[e]]) e++;
    return e;
}
static inline int is_digit(int c) { return (unsigned)(c - '0') < 10u; }
static int is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static void lex_fail(llp_module *m, size_t off, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
static void lex_fail(llp_module *m, size_t off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->lex_msg, sizeof m->lex_msg, fmt, ap);
    va_end(ap);
    m->lex_err_off = off;
    longjmp(m->lex_jb, 1);
}


/* a "..." string starting at i (the quote); the index after the closing quote, or 0 if none */
static inline size_t lex_string_end(llp_module *m, size_t i) {
    const char *q = memchr(m->src + i + 1, '"', m->len - i - 1);
    return q ? (size_t)(q - m->src) + 1 : 0;
}

/* lex tokens until m->tlim == upto (T_EOF, again and again, at the end) */
/* Input that ends in a newline stops every identifier, digit, name and space scan before its end,
 * so those scans can drop the bounds check. */
#define SCAN(e, cond) do { if (safe) { while (cond) (e)++; } else { while ((e) < n && (cond)) (e)++; } } while (0)

static inline __attribute__((always_inline)) void lex_run(llp_module *m, tok_t *upto, const int safe) {
    const char *s = m->src;
    size_t n = m->len, i = m->lex_i;
    tok_t *nl = m->tlim;   /* in a register; stored back before any lex_fail */
#define PUTN(K, W, O, L, N) do { tok_t *t_ = nl; t_->kind = (uint8_t)(K); \
        t_->kw = (uint16_t)(W); t_->off = (uint32_t)(O); t_->len = (uint32_t)(L); t_->num = (N); nl++; } while (0)
#define PUT(K, W, O, L) PUTN(K, W, O, L, -1)
#define LFAIL(...) do { m->tlim = nl; lex_fail(m, __VA_ARGS__); } while (0)
#define STRING_END(e, at, st) do { size_t q_ = lex_string_end(m, (at)); \
        if (!q_) { LFAIL((st), "end of file in string constant"); } (e) = q_; } while (0)
    if (i >= n) goto eof;
    while (nl < upto) {
        unsigned char c;
        if (!safe && i >= n) goto eof;   /* with the final newline, only the space skip can reach the end */
        c = (unsigned char)s[i];
        if (safe) { i += c == ' '; c = (unsigned char)s[i]; }   /* most tokens follow one space */
        while (c <= ' ' && ws_tab[c]) {   /* newlines, indentation, the padding of block labels */
            i++;
            if (c == ' ' && i < n && s[i] == ' ') {
                for (uint64_t w; i + 8 <= n && (memcpy(&w, s + i, 8), w == 0x2020202020202020ull);) i += 8;
                SCAN(i, s[i] == ' ');
            }
            if (i >= n) goto eof;
            c = (unsigned char)s[i];
        }
        size_t st = i, e;
        switch (c) {
        case ';': {
            const char *q = memchr(s + i, '\n', n - i);
            i = q ? (size_t)(q - s) : n;
            continue;
        }
        case '%': case '@': case '$': {
            e = i + 1;
            int32_t num = -1;
            if (e < n && s[e] == '"') STRING_END(e, e, e);
            else {
                /* %N is most names at -O2: its number comes free with the scan, for name_slot() */
                uint32_t v = 0;
                if (safe) { while (is_digit((unsigned char)s[e])) v = v * 10 + (uint32_t)(s[e++] - '0'); }
                else { while (e < n && is_digit((unsigned char)s[e])) v = v * 10 + (uint32_t)(s[e++] - '0'); }
                if (e < n && is_id((unsigned char)s[e])) SCAN(e, is_id((unsigned char)s[e]));
                else if (e > i + 1 && e - i - 1 <= 9) num = (int32_t)v;
            }
            if (e == i + 1) LFAIL(st, "invalid %c name", c);
            if (c == '$' && e < n && s[e] == ':' && s[i + 1] != '"') { PUT(T_LABEL, 0, st, e + 1 - st); i = e + 1; continue; }
            PUTN(c == '%' ? T_LOCAL : c == '@' ? T_GLOBAL : T_COMDAT, 0, st, e - st, num);
            i = e;
            continue;
        }
        case '!':
            e = i + 1;
            SCAN(e, is_id((unsigned char)s[e]) || s[e] == '\\');
            PUT(e == i + 1 ? T_EXCLAIM : T_METAVAR, 0, st, e - st);
            i = e;
            continue;
        case '#': case '^':
            e = i + 1;
            if (c == '#' && e < n && !is_digit((unsigned char)s[e])) {
                while (e < n && is_id((unsigned char)s[e])) e++;
                if (e == i + 1) LFAIL(st, "invalid '#' token");
                PUT(T_HASHKW, kw_lookup(s + i + 1, e - i - 1, n - i - 1), st, e - st);
            } else {
                while (e < n && is_digit((unsigned char)s[e])) e++;
                if (e == i + 1) LFAIL(st, "invalid '%c' token", c);
                PUT(c == '#' ? T_ATTRGRP : T_SUMMARY, 0, st, e - st);
            }
            i = e;
            continue;
        case '"':
            STRING_END(e, i, i);
            if (e < n && s[e] == ':') { PUT(T_LABEL, 0, st, e + 1 - st); i = e + 1; }
            else { PUT(T_STRING, 0, st, e - st); i = e; }
            continue;
        case '(': PUT(T_LPAREN, 0, i, 1); i++; continue;
        case ')': PUT(T_RPAREN, 0, i, 1); i++; continue;
        case '[': PUT(T_LSQ, 0, i, 1); i++; continue;
        case ']': PUT(T_RSQ, 0, i, 1); i++; continue;
        case '{': PUT(T_LBRACE, 0, i, 1); i++; continue;
        case '}': PUT(T_RBRACE, 0, i, 1); i++; continue;
        case '<': PUT(T_LT, 0, i, 1); i++; continue;
        case '>': PUT(T_GT, 0, i, 1); i++; continue;
        case ',': PUT(T_COMMA, 0, i, 1); i++; continue;
        case '=': PUT(T_EQ, 0, i, 1); i++; continue;
        case '*': PUT(T_STAR, 0, i, 1); i++; continue;
        case '|': PUT(T_BAR, 0, i, 1); i++; continue;
        case ':': PUT(T_COLON, 0, i, 1); i++; continue;
        case '.':
            if (i + 2 < n && s[i + 1] == '.' && s[i + 2] == '.') { PUT(T_DOTS, 0, i, 3); i += 3; continue; }
            goto ident;
        case 'i':   /* iN standing alone (the usual case); glued or odd forms take the general path */
            if (i + 1 < n && is_digit((unsigned char)s[i + 1])) {
                size_t k = i + 1;
                long w = 0;
                while (k < n && is_digit((unsigned char)s[k])) {
                    if (w <= 100000000) w = w * 10 + (s[k] - '0');
                    k++;
                }
                if (k < n && (is_id((unsigned char)s[k]) || s[k] == ':')) goto ident;
                if (w < 1 || w > 8388608) LFAIL(st, "bitwidth for integer type out of range");
                PUT(T_INTTYPE, w <= 65535 ? (int)w : 0, st, k - st);
                i = k;
                continue;
            }
            goto ident;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        case '-': case '+':
            /* LLVM's [-a-zA-Z$._0-9]+: label, e.g. 3: or -3: */
            e = i + 1;
            SCAN(e, is_digit((unsigned char)s[e]));
            size_t dend = e;   /* the digits after the first byte */
            if (c != '+' && e < n && idx_tab[(unsigned char)s[e]]) {   /* ('"' cannot make a label) */
                SCAN(e, is_id((unsigned char)s[e]));
                if (e < n && s[e] == ':') { PUT(T_LABEL, 0, st, e + 1 - st); i = e + 1; continue; }
            }
            if (is_digit(c) || dend > i + 1) {
                e = i + 1;
                if (c == '0' && e < n && s[e] == 'x') {  /* hex float: 0x, 0xK, 0xL, 0xM, 0xH, 0xR */
                    e++;
                    if (e < n && s[e] && strchr("KLMHR", s[e])) e++;
                    size_t h = e;
                    while (e < n && is_hex((unsigned char)s[e])) e++;
                    if (e == h) LFAIL(st, "bad hexadecimal floating point constant");
                    PUT(T_FP, 0, st, e - st);
                    i = e;
                    continue;
                }
                e = dend;
                if (e < n && s[e] == '.') {
                    e++;
                    while (e < n && is_digit((unsigned char)s[e])) e++;
                    if (e < n && (s[e] == 'e' || s[e] == 'E')) {
                        size_t k = e + 1;
                        if (k < n && (s[k] == '-' || s[k] == '+')) k++;
                        if (k < n && is_digit((unsigned char)s[k])) {
                            while (k < n && is_digit((unsigned char)s[k])) k++;
                            e = k;
                        }
                    }
                    PUT(T_FP, 0, st, e - st);
                } else {
                    PUT(T_INT, 0, st, e - st);
                }
                i = e;
                continue;
            }
            if (c == '+') LFAIL(st, "invalid character in input");
            goto ident;
        default:
            if (!is_id(c)) LFAIL(st, "invalid character in input");
            goto ident;
        }
    ident: {
            /* one scan: the keyword part ([a-zA-Z0-9_]) and the whole identifier run */
            e = scan_run(s, i, n, 0);
            size_t kend = e;
            if (e < n && idx_tab[(unsigned char)s[e]]) {   /* rare: the run goes on, or a label or c"..." */
                SCAN(e, is_id((unsigned char)s[e]));
                if (e < n && s[e] == ':') { PUT(T_LABEL, 0, st, e + 1 - st); i = e + 1; continue; }
                if (e - st == 1 && c == 'c' && e < n && s[e] == '"') {
                    STRING_END(e, e, st);
                    PUT(T_CSTRING, 0, st, e - st);
                    i = e;
                    continue;
                }
            }
            size_t L = e - st;
            if (L >= 3 && (c == 'u' || c == 's') && s[i + 1] == '0' && s[i + 2] == 'x') {
                for (size_t k = i + 3; k < e; k++)
                    if (!is_hex((unsigned char)s[k])) LFAIL(st, "invalid hexadecimal integer");
                PUT(T_INT, 0, st, L);
                i = e;
                continue;
            }
            if (c == 'i' && L >= 2 && is_digit((unsigned char)s[i + 1])) {   /* iN, even glued: i8addrspace */
                size_t k = i + 1;
                long w = 0;
                while (k < e && is_digit((unsigned char)s[k])) {
                    if (w <= 100000000) w = w * 10 + (s[k] - '0');
                    k++;
                }
                if (w < 1 || w > 8388608) LFAIL(st, "bitwidth for integer type out of range");
                PUT(T_INTTYPE, w <= 65535 ? (int)w : 0, st, k - st);
                i = k;
                continue;
            }
            /* keywords are [a-zA-Z_][a-zA-Z0-9_]*; the rest of the run lexes on its own */
            if (kend > i) { e = kend; L = e - st; }
            PUT(T_KW, kw_lookup(s + st, L, n - st), st, L);
            i = e;
            continue;
        }
    }
    m->lex_i = i;
    m->tlim = nl;
    return;
eof:
    m->lex_i = n;
    while (nl < upto) PUT(T_EOF, 0, n, 0);
    m->tlim = nl;
#undef PUT
#undef LFAIL
#undef STRING_END
}

/* two copies of the lexer: the one for input ending in a newline has no bounds checks in its scans */
static void lex_batch(llp_module *m, tok_t *upto) {
    if (m->len > 0 && m->src[m->len - 1] == '\n') lex_run(m, upto, 1);
    else lex_run(m, upto, 0);
}

/* make token `need` (at most 2 past the cursor) available */
static __attribute__((noinline)) void refill(llp_module *m, tok_t *need) {
    const size_t ahead = (size_t)(need - m->tp);
    if (m->lex_err) fail(m, m->lex_err_off, "%s", m->lex_msg);
    if (m->tlim + BATCH > m->toks + TBUF) {
        tok_t *from = m->tp - KEEP;
        size_t k = (size_t)(m->tlim - from);
        memmove(m->toks, from, k * sizeof(tok_t));
        m->tp = m->toks + KEEP;
        m->tlim = m->toks + k;
    }
    if (setjmp(m->lex_jb)) {   /* tokens before the bad one stay usable */
        m->lex_err = 1;
        if (m->tlim <= m->tp + ahead) fail(m, m->lex_err_off, "%s", m->lex_msg);
        return;
    }
    lex_batch(m, m->tp + BATCH);
}

/* ------------------------------------------------------------------ token helpers */
static inline __attribute__((always_inline)) tok_t *cur(llp_module *m) {
    if (__builtin_expect(m->tp >= m->tlim, 0)) refill(m, m->tp);
    return m->tp;
}
static inline tok_t *peekn(llp_module *m, size_t k) {
    if (__builtin_expect(m->tp + k >= m->tlim, 0)) refill(m, m->tp + k);
    return m->tp + k;   /* past the end every token is T_EOF */
}
static inline __attribute__((always_inline)) void adv(llp_module *m) {
    tok_t *t = cur(m);
    if (t->kind == T_EOF) return;
    m->tp = t + 1;
}
static inline int at(llp_module *m, int kind) { return cur(m)->kind == kind; }
static inline int atkw(llp_module *m, int kw) { tok_t *t = cur(m); return t->kind == T_KW && t->kw == kw; }
/* the token matched is not T_EOF (kind is a constant at every call), so no second look before stepping */
static inline __attribute__((always_inline)) int eat(llp_module *m, int kind) {
    tok_t *t = cur(m);
    if (t->kind != kind) return 0;
    if (kind != T_EOF) m->tp = t + 1;
    return 1;
}
static inline __attribute__((always_inline)) int eatkw(llp_module *m, int kw) {
    tok_t *t = cur(m);
    if (t->kind != T_KW || t->kw != kw) return 0;
    m->tp = t + 1;
    return 1;
}

static const char *tokdesc(int kind) {
    switch (kind) {
    case T_LPAREN: return "'('"; case T_RPAREN: return "')'"; case T_LSQ: return "'['";
    case T_RSQ: return "']'"; case T_LBRACE: return "'{'"; case T_RBRACE: return "'}'";
    case T_LT: return "'<'"; case T_GT: return "'>'"; case T_COMMA: return "','";
    case T_EQ: return "'='"; case T_STAR: return "'*'"; case T_STRING: return "string constant";
    case T_INT: return "integer"; case T_LOCAL: return "local name"; case T_GLOBAL: return "global name";
    default: return "token";
    }
}
static void expect_failed(llp_module *m, int kind, const char *what) __attribute__((noreturn, cold));
static void expect_failed(llp_module *m, int kind, const char *what) {
    if (what) fail(m, cur(m)->off, "expected %s", what);
    fail(m, cur(m)->off, "expected %s here", tokdesc(kind));
}
static inline __attribute__((always_inline)) void expect(llp_module *m, int kind, const char *what) {
    if (__builtin_expect(!eat(m, kind), 0)) expect_failed(m, kind, what);
}
static void expectkw(llp_module *m, int kw) {
    if (!eatkw(m, kw)) fail(m, cur(m)->off, "expected '%s'", KW_TEXT[kw]);
}

/* decimal value of an integer token (saturating; enough for counts, widths, indices) */
static long long tok_int(llp_module *m, tok_t *t) {
    const char *s = m->src + t->off;
    size_t i = 0, n = t->len;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) { neg = s[i] == '-'; i++; }
    long long v = 0;
    for (; i < n && is_digit((unsigned char)s[i]); i++) {
        if (v < (1LL << 50)) v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}
static long long expect_uint(llp_module *m, const char *what) {
    if (!at(m, T_INT)) fail(m, cur(m)->off, "expected %s", what);
    long long v = tok_int(m, cur(m));
    if (v < 0) fail(m, cur(m)->off, "expected %s", what);
    adv(m);
    return v;
}

/* skip a balanced ( ... ) group starting at '(' */
static void skip_parens(llp_module *m) {
    int open = cur(m)->kind, close = open == T_LPAREN ? T_RPAREN : open == T_LSQ ? T_RSQ : T_RBRACE;
    size_t start = cur(m)->off;
    int d = 0;
    for (;;) {
        int k = cur(m)->kind;
        if (k == T_EOF) fail(m, start, "unbalanced %s", tokdesc(open));
        if (k == T_LPAREN || k == T_LSQ || k == T_LBRACE) d++;
        else if (k == T_RPAREN || k == T_RSQ || k == T_RBRACE) {
            d--;
            if (d == 0) {
                if (k != close) fail(m, cur(m)->off, "expected %s here", tokdesc(close));
                adv(m);
                return;
            }
        }
        adv(m);
    }
}

/* ------------------------------------------------------------------ hash maps */
/* name key of a token: the text after the sigil, without quotes */
static void name_key(llp_module *m, tok_t *t, uint32_t *off, uint32_t *len) {
    uint32_t o = t->off, l = t->len;
    const char *s = m->src;
    if (t->kind == T_LABEL) { l--; }            /* drop ':' */
    else { o++; l--; }                          /* drop sigil */
    if (l >= 2 && s[o] == '"') { o++; l -= 2; }
    *off = o;
    *len = l;
}
static int key_is_num(llp_module *m, uint32_t off, uint32_t len, long long *num) {
    if (len == 0 || len > 9) return 0;
    long long v = 0;
    for (uint32_t i = 0; i < len; i++) {
        char c = m->src[off + i];
        if (!is_digit((unsigned char)c)) return 0;
        v = v * 10 + (c - '0');
    }
    if (off > 0 && m->src[off - 1] == '"') return 0;   /* %"0" is a name, not a slot */
    *num = v;
    return 1;
}

typedef struct { int32_t **tab; size_t *cap, *n; } map_t;

static void keyspace(llp_module *m, int32_t vid) {
    m->keyoff = grow(m, m->keyoff, &m->keyoff_cap, (size_t)vid + 1, sizeof(uint32_t));
    m->keylen = grow(m, m->keylen, &m->keylen_cap, (size_t)vid + 1, sizeof(uint32_t));
}

static void map_rehash(llp_module *m, int32_t **tab, size_t *cap);
/* lookup name (off,len) in a vid map; returns slot pointer */
static int32_t *map_slot(llp_module *m, int32_t **tab, size_t *cap, uint32_t off, uint32_t len) {
    if (!*cap) {
        *cap = 256;
        *tab = malloc(*cap * sizeof(int32_t));
        if (!*tab) { *cap = 0; fail(m, off, "out of memory"); }
        memset(*tab, 0xff, *cap * sizeof(int32_t));
    }
    size_t mask = *cap - 1, h = hash_bytes(m->src + off, len) & mask;
    for (;;) {
        int32_t v = (*tab)[h];
        if (v < 0) return &(*tab)[h];
        if (m->keylen[v] == len && memcmp(m->src + m->keyoff[v], m->src + off, len) == 0) return &(*tab)[h];
        h = (h + 1) & mask;
    }
}
static void map_rehash(llp_module *m, int32_t **tab, size_t *cap) {
    size_t oc = *cap;
    int32_t *old = *tab;
    size_t nc = oc * 2;
    int32_t *nt = malloc(nc * sizeof(int32_t));
    if (!nt) fail(m, 0, "out of memory");
    memset(nt, 0xff, nc * sizeof(int32_t));
    for (size_t i = 0; i < oc; i++) {
        int32_t v = old[i];
        if (v < 0) continue;
        size_t h = hash_bytes(m->src + m->keyoff[v], m->keylen[v]) & (nc - 1);
        while (nt[h] >= 0) h = (h + 1) & (nc - 1);
        nt[h] = v;
    }
    free(old);
    *tab = nt;
    *cap = nc;
}
static void map_put(llp_module *m, int32_t **tab, size_t *cap, size_t *n, int32_t *slot, int32_t v) {
    int fresh = *slot < 0;
    *slot = v;
    if (fresh && ++*n * 2 > *cap) map_rehash(m, tab, cap);
}

static __attribute__((noinline)) int32_t *num_slot_grow(llp_module *m, int32_t **arr, size_t *n, size_t *cap, long long num) {
    if (num >= (1 << 26)) fail(m, 0, "value number too large");
    if ((size_t)num >= *n) {
        *arr = grow(m, *arr, cap, (size_t)num + 1, sizeof(int32_t));
        for (size_t i = *n; i <= (size_t)num; i++) (*arr)[i] = -1;
        *n = (size_t)num + 1;
    }
    return &(*arr)[num];
}
/* the array only ever grows to numbers under the limit, so a number inside it needs no check */
static inline int32_t *num_slot(llp_module *m, int32_t **arr, size_t *n, size_t *cap, long long num) {
    if (__builtin_expect((size_t)num < *n, 1)) return &(*arr)[num];
    return num_slot_grow(m, arr, n, cap, num);
}

/* ------------------------------------------------------------------ values */
static int32_t new_value(llp_module *m, int kind, int32_t index, int32_t type) {
    int32_t vid = NROWS(m, LLP_VALUES);
    int32_t *r = row_raw(m, LLP_VALUES);
    r[0] = kind; r[1] = index; r[2] = type;
    /* no name key yet: keys are read only for values that name_put/define_name gave one (map
     * entries, placeholders), so most values (unnamed, numbered) never touch those arrays */
    return vid;
}

/* slot for a name token in the local or global namespace */
static int32_t *name_slot(llp_module *m, tok_t *t, int local) {
    uint32_t off, len;
    long long num;
    if (t->num >= 0) {   /* %N / @N, the common case at -O2: the lexer read the number */
        if (local) return num_slot(m, &m->lnum, &m->lnum_n, &m->lnum_cap, t->num);
        return num_slot(m, &m->gnum, &m->gnum_n, &m->gnum_cap, t->num);
    }
    name_key(m, t, &off, &len);
    if (key_is_num(m, off, len, &num)) {
        if (local) return num_slot(m, &m->lnum, &m->lnum_n, &m->lnum_cap, num);
        return num_slot(m, &m->gnum, &m->gnum_n, &m->gnum_cap, num);
    }
    if (local) return map_slot(m, &m->lmap, &m->lmap_cap, off, len);
    return map_slot(m, &m->gmap, &m->gmap_cap, off, len);
}
static void name_put(llp_module *m, tok_t *t, int local, int32_t *slot, int32_t vid) {
    uint32_t off, len;
    long long num;
    name_key(m, t, &off, &len);
    keyspace(m, vid);
    m->keyoff[vid] = off;
    m->keylen[vid] = len;
    if (key_is_num(m, off, len, &num)) { *slot = vid; return; }
    if (local) map_put(m, &m->lmap, &m->lmap_cap, &m->lmap_n, slot, vid);
    else map_put(m, &m->gmap, &m->gmap_cap, &m->gmap_n, slot, vid);
}

/* define a named value (or slot number); resolves a placeholder made by an earlier use */
static void define_name(llp_module *m, tok_t *t, int local, int32_t vid) {
    int32_t *slot = name_slot(m, t, local);
    if (*slot >= 0) {
        int32_t *v = ROW(m, LLP_VALUES, *slot);
        if (v[0] != LLP_V_FWD || v[1] >= 0 || (v[1] == -2) != local) {
            uint32_t off, len;
            name_key(m, t, &off, &len);
            if (local) fail(m, t->off, "multiple definition of local value named '%.*s'", (int)len, m->src + off);
            fail(m, t->off, "redefinition of global '@%.*s'", (int)len, m->src + off);
        }
        v[1] = vid;             /* resolved placeholder */
        *slot = vid;
        uint32_t off, len;
        name_key(m, t, &off, &len);
        keyspace(m, vid);
        m->keyoff[vid] = off;
        m->keylen[vid] = len;
        return;
    }
    name_put(m, t, local, slot, vid);
}

/* define a global or function.  `@""` is an unnamed global: as in LLVM, it takes the next global
 * slot number (one past the highest @N defined so far) and is referenced as @N */
static void define_global(llp_module *m, tok_t *t, int32_t vid, const char *what) {
    uint32_t off, len;
    long long num;
    name_key(m, t, &off, &len);
    if (len == 0) {
        int32_t *slot = num_slot(m, &m->gnum, &m->gnum_n, &m->gnum_cap, m->next_global);
        if (*slot >= 0) {
            int32_t *v = ROW(m, LLP_VALUES, *slot);
            if (v[0] != LLP_V_FWD || v[1] != -1) fail(m, t->off, "redefinition of global '@%d'", m->next_global);
            v[1] = vid;         /* resolved placeholder */
        }
        *slot = vid;
        keyspace(m, vid);
        m->keyoff[vid] = off;
        m->keylen[vid] = 0;
        m->next_global++;
        return;
    }
    if (t->num >= 0) num = t->num;
    else if (!key_is_num(m, off, len, &num)) num = -1;
    if (num >= 0 && num < m->next_global)
        fail(m, t->off, "%s expected to be numbered '@%d' or greater", what, m->next_global);
    if (num >= 0) m->next_global = (int32_t)num + 1;
    define_name(m, t, 0, vid);
}

/* implicit slot number for an unnamed value */
static void define_unnamed(llp_module *m, int32_t vid) {
    int32_t *slot = num_slot(m, &m->lnum, &m->lnum_n, &m->lnum_cap, m->next_local);
    if (*slot >= 0) {
        int32_t *v = ROW(m, LLP_VALUES, *slot);
        if (v[0] == LLP_V_FWD && v[1] == -2) v[1] = vid;
        else fail(m, cur(m)->off, "multiple definition of local value '%%%d'", m->next_local);
    }
    *slot = vid;
    m->next_local++;
}

static void add_ref(llp_module *m, tok_t *t, int32_t vid) {
    int32_t *r = row_raw(m, LLP_REFS);
    r[0] = (int32_t)t->off; r[1] = (int32_t)t->len; r[2] = vid;
}

/* reference to %name / @name: returns the vid (maybe a placeholder) and records the ref */
static int32_t use_name(llp_module *m, tok_t *t, int local, int32_t type) {
    if (local && m->cur_func < 0) {
        uint32_t off, len;
        name_key(m, t, &off, &len);
        fail(m, t->off, "use of undefined value '%%%.*s'", (int)len, m->src + off);
    }
    int32_t *slot = name_slot(m, t, local);
    int32_t vid = *slot;
    if (vid < 0) {
        /* placeholder: index column -2 = unresolved local, -1 = unresolved global */
        vid = new_value(m, LLP_V_FWD, local ? -2 : -1, type);
        name_put(m, t, local, slot, vid);
        m->nfwd++;
        if (m->fwd_since < 0) m->fwd_since = vid;
    }
    if (!local && ROW(m, LLP_VALUES, vid)[0] == LLP_V_FWD && !m->gfwd_open) {
        /* operands naming it are appended from here on, its ref is the next row */
        m->gfwd = grow(m, m->gfwd, &m->gfwd_cap, m->gfwd_n + 4, sizeof(size_t));
        m->gfwd[m->gfwd_n] = m->t[LLP_OPERANDS].n;
        m->gfwd[m->gfwd_n + 2] = m->t[LLP_REFS].n;
        m->gfwd_open = 1;
    }
    add_ref(m, t, vid);
    return vid;
}

/* top-level entities close the open range of global placeholder uses */
static void gfwd_close(llp_module *m) {
    if (!m->gfwd_open) return;
    m->gfwd[m->gfwd_n + 1] = m->t[LLP_OPERANDS].n;
    m->gfwd[m->gfwd_n + 3] = m->t[LLP_REFS].n;
    m->gfwd_n += 4;
    m->gfwd_open = 0;
}

/* ------------------------------------------------------------------ types */
static uint32_t text_hash(const char *s, size_t n) { return hash_bytes(s, n); }

static int32_t type_intern(llp_module *m, int kind, int32_t a, int32_t b, int32_t c, size_t list_base,
                           size_t text_base) {
    const char *txt = m->cscr + text_base;
    size_t tl = m->cscr_n - text_base;
    if (!m->tmap_cap) {
        m->tmap_cap = 256;
        m->tmap = malloc(m->tmap_cap * sizeof(int32_t));
        if (!m->tmap) { m->tmap_cap = 0; fail(m, 0, "out of memory"); }
        memset(m->tmap, 0xff, m->tmap_cap * sizeof(int32_t));
    }
    size_t mask = m->tmap_cap - 1, h = text_hash(txt, tl) & mask;
    for (;;) {
        int32_t id = m->tmap[h];
        if (id < 0) break;
        int32_t *r = ROW(m, LLP_TYPES, id);
        if ((size_t)r[7] == tl && memcmp(m->ttext + r[6], txt, tl) == 0) {
            m->scr_n = list_base;
            m->cscr_n = text_base;
            return id;
        }
        h = (h + 1) & mask;
    }
    int32_t id = NROWS(m, LLP_TYPES);
    int32_t *r = row(m, LLP_TYPES);
    r[0] = kind; r[1] = a; r[2] = b; r[3] = c;
    r[4] = NROWS(m, LLP_TYPELIST);
    r[5] = (int32_t)(m->scr_n - list_base);
    append_scr(m, LLP_TYPELIST, list_base);
    m->ttext = grow(m, m->ttext, &m->ttext_cap, m->ttext_n + tl + 1, 1);
    memcpy(m->ttext + m->ttext_n, m->cscr + text_base, tl);
    r = ROW(m, LLP_TYPES, id);
    r[6] = (int32_t)m->ttext_n;
    r[7] = (int32_t)tl;
    m->ttext_n += tl;
    m->tmap[h] = id;
    m->scr_n = list_base;
    m->cscr_n = text_base;
    if ((size_t)++m->tmap_n * 2 > m->tmap_cap) {
        size_t nc = m->tmap_cap * 2;
        int32_t *nt = malloc(nc * sizeof(int32_t));
        if (!nt) fail(m, 0, "out of memory");
        memset(nt, 0xff, nc * sizeof(int32_t));
        for (size_t i = 0; i < m->tmap_cap; i++) {
            int32_t v = m->tmap[i];
            if (v < 0) continue;
            int32_t *rr = ROW(m, LLP_TYPES, v);
            size_t hh = text_hash(m->ttext + rr[6], (size_t)rr[7]) & (nc - 1);
            while (nt[hh] >= 0) hh = (hh + 1) & (nc - 1);
            nt[hh] = v;
        }
        free(m->tmap);
        m->tmap = nt;
        m->tmap_cap = nc;
    }
    return id;
}
static void cpush_type(llp_module *m, int32_t t) {
    int32_t *r = ROW(m, LLP_TYPES, t);
    size_t off = (size_t)r[6], len = (size_t)r[7];
    m->cscr = grow(m, m->cscr, &m->cscr_cap, m->cscr_n + len, 1);
    memcpy(m->cscr + m->cscr_n, m->ttext + off, len);
    m->cscr_n += len;
}
static int32_t simple_type(llp_module *m, int kind, int a, const char *text) {
    size_t tb = m->cscr_n, lb = m->scr_n;
    cputs(m, text);
    return type_intern(m, kind, a, -1, -1, lb, tb);
}
static __attribute__((noinline)) int32_t int_type_new(llp_module *m, long w) {
    char buf[24];
    snprintf(buf, sizeof buf, "i%ld", w);
    int32_t t = simple_type(m, LLP_T_INT, (int)w, buf);
    if (w >= 0 && w <= 128) m->inttype[w] = t;
    return t;
}
/* i1..i128 are a table look-up once seen (nearly every integer type) */
static inline int32_t int_type(llp_module *m, long w) {
    if (w >= 0 && w <= 128 && m->inttype[w] >= 0) return m->inttype[w];
    return int_type_new(m, w);
}
static int32_t ptr_type(llp_module *m, long as) {
    if (as == 0) return m->t_ptr;
    char buf[48];
    snprintf(buf, sizeof buf, "ptr addrspace(%ld)", as);
    return simple_type(m, LLP_T_PTR, (int)as, buf);
}
static int32_t vec_type(llp_module *m, int32_t elt, long n, int scalable) {
    /* vector types recur (every vector compare asks for <N x i1>): skip the text build for them */
    int32_t *vc = m->vcache[((uint32_t)elt * 31u + (uint32_t)n * 7u + (uint32_t)scalable) & 255];
    if (vc[3] && vc[0] == elt && vc[1] == (int32_t)n && vc[2] == scalable) return vc[3] - 1;
    size_t tb = m->cscr_n, lb = m->scr_n;
    char buf[48];
    snprintf(buf, sizeof buf, scalable ? "<vscale x %ld x " : "<%ld x ", n);
    cputs(m, buf);
    cpush_type(m, elt);
    cputs(m, ">");
    int32_t id = type_intern(m, LLP_T_VECTOR, elt, (int32_t)n, scalable, lb, tb);
    if (n == (int32_t)n) { vc[0] = elt; vc[1] = (int32_t)n; vc[2] = scalable; vc[3] = id + 1; }
    return id;
}
/* a literal struct whose element types are the scratch entries from lb up */
static int32_t struct_scr(llp_module *m, size_t lb, int packed) {
    size_t tb = m->cscr_n;
    int n = (int)(m->scr_n - lb);
    if (!n) cputs(m, packed ? "<{}>" : "{}");
    else {
        cputs(m, packed ? "<{ " : "{ ");
        for (int i = 0; i < n; i++) {
            if (i) cputs(m, ", ");
            cpush_type(m, m->scr[lb + (size_t)i]);
        }
        cputs(m, packed ? " }>" : " }");
    }
    return type_intern(m, LLP_T_STRUCT, n, packed, -1, lb, tb);
}
static inline int32_t *TY(llp_module *m, int32_t t) { return ROW(m, LLP_TYPES, t); }

static int32_t named_type(llp_module *m, tok_t *t) {
    uint32_t off, len;
    long long num;
    name_key(m, t, &off, &len);
    int32_t *slot;
    int isnum = key_is_num(m, off, len, &num);
    if (isnum) slot = num_slot(m, &m->tnum, &m->tnum_n, &m->tnum_cap, num);
    else {
        /* named types share the key arrays with values through negative... keep their own map */
        if (!m->nmap_cap) {
            m->nmap_cap = 64;
            m->nmap = malloc(m->nmap_cap * sizeof(int32_t));
            if (!m->nmap) { m->nmap_cap = 0; fail(m, t->off, "out of memory"); }
            memset(m->nmap, 0xff, m->nmap_cap * sizeof(int32_t));
        }
        size_t mask = m->nmap_cap - 1, h = hash_bytes(m->src + off, len) & mask;
        for (;;) {
            int32_t v = m->nmap[h];
            if (v < 0) break;
            int32_t *r = ROW(m, LLP_NAMED, v);
            if ((uint32_t)r[1] == len && memcmp(m->src + r[0], m->src + off, len) == 0) break;
            h = (h + 1) & mask;
        }
        slot = &m->nmap[h];
    }
    if (*slot >= 0) return ROW(m, LLP_NAMED, *slot)[2];
    int32_t idx = NROWS(m, LLP_NAMED);
    int32_t *r = row(m, LLP_NAMED);
    r[0] = (int32_t)off; r[1] = (int32_t)len; r[3] = -1;
    *slot = idx;
    if (!isnum && ++m->nmap_n * 2 > m->nmap_cap) {
        size_t nc = m->nmap_cap * 2;
        int32_t *nt = malloc(nc * sizeof(int32_t));
        if (!nt) fail(m, t->off, "out of memory");
        memset(nt, 0xff, nc * sizeof(int32_t));
        for (size_t i = 0; i < m->nmap_cap; i++) {
            int32_t v = m->nmap[i];
            if (v < 0) continue;
            int32_t *rr = ROW(m, LLP_NAMED, v);
            size_t hh = hash_bytes(m->src + rr[0], (size_t)rr[1]) & (nc - 1);
            while (nt[hh] >= 0) hh = (hh + 1) & (nc - 1);
            nt[hh] = v;
        }
        free(m->nmap);
        m->nmap = nt;
        m->nmap_cap = nc;
    }
    size_t tb = m->cscr_n, lb = m->scr_n;
    cpush(m, m->src + t->off, t->len);
    int32_t ty = type_intern(m, LLP_T_NAMED, idx, -1, -1, lb, tb);
    ROW(m, LLP_NAMED, idx)[2] = ty;
    return ty;
}

static int is_type_start(llp_module *m) {
    tok_t t_v = *cur(m), *t = &t_v;
    switch (t->kind) {
    case T_INTTYPE: case T_LOCAL: case T_LBRACE: case T_LSQ: case T_LT: return 1;
    case T_KW:
        switch (t->kw) {
        case KW_void: case KW_half: case KW_bfloat: case KW_float: case KW_double: case KW_x86_fp80:
        case KW_fp128: case KW_ppc_fp128: case KW_label: case KW_metadata: case KW_token:
        case KW_x86_amx: case KW_x86_mmx: case KW_ptr: case KW_target: case KW_opaque:
            return 1;
        default: return 0;
        }
    default: return 0;
    }
}

static int32_t parse_type(llp_module *m);

/* params of a function type after '(' has been seen; returns the function type */
static int32_t fn_type_rest(llp_module *m, int32_t ret) {
    size_t lb = m->scr_n;
    int vararg = 0;
    expect(m, T_LPAREN, NULL);
    if (!at(m, T_RPAREN)) {
        for (;;) {
            if (eat(m, T_DOTS)) { vararg = 1; break; }
            int32_t p = parse_type(m);
            push(m, p);
            if (!eat(m, T_COMMA)) break;
        }
    }
    expect(m, T_RPAREN, NULL);
    size_t tb = m->cscr_n;
    cpush_type(m, ret);
    cputs(m, " (");
    for (size_t i = lb; i < m->scr_n; i++) {
        if (i > lb) cputs(m, ", ");
        cpush_type(m, m->scr[i]);
    }
    if (vararg) cputs(m, m->scr_n > lb ? ", ..." : "...");
    cputs(m, ")");
    return type_intern(m, LLP_T_FUNC, ret, vararg, -1, lb, tb);
}

static int32_t type_suffix(llp_module *m, int32_t t) {
    for (;;) {
        if (at(m, T_STAR)) {
            if (TY(m, t)[0] == LLP_T_VOID) fail(m, cur(m)->off, "pointers to void are invalid; use i8* instead");
            adv(m);
            size_t tb = m->cscr_n, lb = m->scr_n;
            cpush_type(m, t);
            cputs(m, "*");
            t = type_intern(m, LLP_T_PTR, 0, t, -1, lb, tb);
        } else if (atkw(m, KW_addrspace) && peekn(m, 1)->kind == T_LPAREN) {
            adv(m); adv(m);
            long long as = expect_uint(m, "address space");
            expect(m, T_RPAREN, NULL);
            if (!at(m, T_STAR)) fail(m, cur(m)->off, "expected '*' in address space");
            adv(m);
            char buf[48];
            size_t tb = m->cscr_n, lb = m->scr_n;
            cpush_type(m, t);
            snprintf(buf, sizeof buf, " addrspace(%lld)*", as);
            cputs(m, buf);
            t = type_intern(m, LLP_T_PTR, (int32_t)as, t, -1, lb, tb);
        } else if (at(m, T_LPAREN)) {
            t = fn_type_rest(m, t);
        } else {
            return t;
        }
    }
}

static int32_t parse_type_noexcept(llp_module *m, int allow_suffix) {
    tok_t t_v = *cur(m), *t = &t_v;
    int32_t ty = -1;
    if (++m->depth > MAX_DEPTH) fail(m, t->off, "type nesting too deep");
    switch (t->kind) {
    case T_INTTYPE:
        if (t->kw) ty = int_type(m, t->kw);
        else {
            long w = 0;
            for (uint32_t i = 1; i < t->len; i++) w = w * 10 + (m->src[t->off + i] - '0');
            ty = int_type(m, w);
        }
        adv(m);
        break;
    case T_LOCAL:
        ty = named_type(m, t);
        adv(m);
        break;
    case T_LSQ: case T_LT: {
        int vec = t->kind == T_LT;
        adv(m);
        if (vec && at(m, T_LBRACE)) {  /* <{ ... }> packed struct */
            adv(m);
            size_t lb = m->scr_n;
            if (!at(m, T_RBRACE)) {
                for (;;) { push(m, parse_type(m)); if (!eat(m, T_COMMA)) break; }
            }
            expect(m, T_RBRACE, NULL);
            expect(m, T_GT, NULL);
            ty = struct_scr(m, lb, 1);
            break;
        }
        int scalable = 0;
        if (vec && atkw(m, KW_vscale)) {
            adv(m);
            if (!eatkw(m, KW_x)) fail(m, cur(m)->off, "expected 'x' after vscale");
            scalable = 1;
        }
        long long n = expect_uint(m, "number in address space");
        if (!eatkw(m, KW_x)) fail(m, cur(m)->off, "expected 'x' after element count");
        int32_t elt = parse_type(m);
        expect(m, vec ? T_GT : T_RSQ, vec ? "'>' at end of vector" : "']' at end of array");
        if (vec) ty = vec_type(m, elt, (long)n, scalable);
        else {
            size_t tb = m->cscr_n, lb = m->scr_n;
            char buf[48];
            snprintf(buf, sizeof buf, "[%lld x ", n);
            cputs(m, buf);
            cpush_type(m, elt);
            cputs(m, "]");
            ty = type_intern(m, LLP_T_ARRAY, elt, (int32_t)(n > 0x7fffffff ? 0x7fffffff : n), -1, lb, tb);
        }
        break;
    }
    case T_LBRACE: {
        adv(m);
        size_t lb = m->scr_n;
        if (!at(m, T_RBRACE)) {
            for (;;) { push(m, parse_type(m)); if (!eat(m, T_COMMA)) break; }
        }
        expect(m, T_RBRACE, NULL);
        ty = struct_scr(m, lb, 0);
        break;
    }
    case T_KW:
        switch (t->kw) {
        case KW_ptr: {
            adv(m);
            if (atkw(m, KW_addrspace) && peekn(m, 1)->kind == T_LPAREN) {
                adv(m); adv(m);
                long long as = expect_uint(m, "address space");
                expect(m, T_RPAREN, NULL);
                ty = ptr_type(m, (long)as);
            } else {
                ty = m->t_ptr;
            }
            break;
        }
        case KW_target: {
            adv(m);
            size_t tb = m->cscr_n, lb = m->scr_n;
            cputs(m, "target(");
            expect(m, T_LPAREN, NULL);
            if (!at(m, T_STRING)) fail(m, cur(m)->off, "expected string constant");
            cpush(m, m->src + cur(m)->off, cur(m)->len);
            adv(m);
            while (eat(m, T_COMMA)) {
                cputs(m, ", ");
                if (at(m, T_INT)) { cpush(m, m->src + cur(m)->off, cur(m)->len); adv(m); }
                else {
                    size_t keep_t = m->cscr_n;
                    /* the nested type interns on its own stack level, then its text is appended */
                    int32_t p = parse_type(m);
                    m->cscr_n = keep_t;
                    cpush_type(m, p);
                    push(m, p);
                }
            }
            expect(m, T_RPAREN, NULL);
            cputs(m, ")");
            ty = type_intern(m, LLP_T_TARGET, -1, -1, -1, lb, tb);
            break;
        }
        case KW_void: case KW_half: case KW_bfloat: case KW_float: case KW_double: case KW_x86_fp80:
        case KW_fp128: case KW_ppc_fp128: case KW_label: case KW_metadata: case KW_token:
        case KW_x86_amx: case KW_x86_mmx: case KW_opaque:
            ty = m->kwtype[t->kw];
            adv(m);
            break;
        default:
            fail(m, t->off, "expected type");
        }
        break;
    default:
        fail(m, t->off, "expected type");
    }
    if (allow_suffix) {   /* a keyword after a type is nearly always an attribute, not addrspace */
        const tok_t *n = cur(m);
        if (n->kind == T_STAR || n->kind == T_LPAREN || (n->kind == T_KW && n->kw == KW_addrspace)) ty = type_suffix(m, ty);
    }
    m->depth--;
    return ty;
}
static int32_t parse_type(llp_module *m) { return parse_type_noexcept(m, 1); }

/* ------------------------------------------------------------------ constants and values */
static int32_t parse_value(llp_module *m, int32_t type);
static int32_t parse_typed_value(llp_module *m);
static void parse_md(llp_module *m);

static int32_t new_const_row(llp_module *m, int kind, int32_t type, size_t off, size_t end, size_t op_base,
                             int32_t key_off);
/* constant texts are mostly a few digits: a call to memcmp costs more than comparing them */
static inline int same_bytes(const char *a, const char *b, size_t n) {
    if (n > 8) return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}
static int32_t new_const(llp_module *m, int kind, int32_t type, size_t off, size_t end, size_t op_base,
                         int32_t key_off) {
    if (m->scr_n != op_base || end <= off || kind == LLP_C_METADATA || kind == LLP_C_ASM)
        return new_const_row(m, kind, type, off, end, op_base, key_off);
    if (!m->cmap_cap) {
        m->cmap_cap = 1024;
        m->cmap = malloc(m->cmap_cap * sizeof(uint64_t));
        if (!m->cmap) { m->cmap_cap = 0; fail(m, off, "out of memory"); }
        memset(m->cmap, 0xff, m->cmap_cap * sizeof(uint64_t));
    }
    size_t len = end - off;
    uint32_t h0 = hash_bytes(m->src + off, len) ^ ((uint32_t)type * 2654435761u);
    size_t mask = m->cmap_cap - 1, h = h0 & mask;
    /* the stored hash turns away other constants without touching their rows (cache misses) */
    for (;;) {
        uint64_t e = m->cmap[h];
        if (e == UINT64_MAX) break;
        if ((uint32_t)(e >> 32) == h0) {
            const int32_t *c = ROW(m, LLP_CONSTS, (uint32_t)e);
            if (c[1] == type && c[0] == kind && (size_t)(c[3] - c[2]) == len && same_bytes(m->src + c[2], m->src + off, len))
                return c[7];
        }
        h = (h + 1) & mask;
    }
    int32_t crow = NROWS(m, LLP_CONSTS);
    int32_t vid = new_const_row(m, kind, type, off, end, op_base, key_off);
    m->cmap[h] = (uint64_t)h0 << 32 | (uint32_t)crow;
    if (++m->cmap_n * 2 > m->cmap_cap) {
        size_t nc = m->cmap_cap * 2;
        uint64_t *nt = malloc(nc * sizeof(uint64_t));
        if (!nt) fail(m, off, "out of memory");
        memset(nt, 0xff, nc * sizeof(uint64_t));
        for (size_t i = 0; i < m->cmap_cap; i++) {
            uint64_t e = m->cmap[i];
            if (e == UINT64_MAX) continue;
            size_t hh = (size_t)(e >> 32) & (nc - 1);
            while (nt[hh] != UINT64_MAX) hh = (hh + 1) & (nc - 1);
            nt[hh] = e;
        }
        free(m->cmap);
        m->cmap = nt;
        m->cmap_cap = nc;
    }
    return vid;
}

static int32_t new_const_row(llp_module *m, int kind, int32_t type, size_t off, size_t end, size_t op_base,
                             int32_t key_off) {
    int32_t idx = NROWS(m, LLP_CONSTS);
    int32_t vid = new_value(m, LLP_V_CONST, idx, type);
    int32_t *r = row(m, LLP_CONSTS);
    r[0] = kind; r[1] = type; r[2] = (int32_t)off; r[3] = (int32_t)end;
    r[4] = NROWS(m, LLP_OPERANDS);
    r[5] = (int32_t)(m->scr_n - op_base);
    r[6] = key_off; r[7] = vid;
    append_scr(m, LLP_OPERANDS, op_base);
    m->scr_n = op_base;
    return vid;
}
static size_t prev_end(llp_module *m) {
    const tok_t *p = m->tp - 1;   /* the token adv() last stepped over (a zero-length one at the start) */
    return p->off + p->len;
}

static int cast_opcode(int kw) {
    return kw == OP_trunc || kw == OP_zext || kw == OP_sext || kw == OP_fptrunc || kw == OP_fpext ||
           kw == OP_fptoui || kw == OP_fptosi || kw == OP_uitofp || kw == OP_sitofp || kw == OP_ptrtoint ||
           kw == OP_ptrtoaddr || kw == OP_inttoptr || kw == OP_bitcast || kw == OP_addrspacecast;
}

/* a constant expression: opcode [flags] [pred] ( ... ) */
static int32_t parse_const_expr(llp_module *m, int32_t type) {
    tok_t t_v = *cur(m), *t = &t_v;
    size_t off = t->off, base = m->scr_n;
    int op = t->kw;
    adv(m);
    while (cur(m)->kind == T_KW && (IS_FLAG(cur(m)->kw))) {
        if (atkw(m, FL_inrange) && peekn(m, 1)->kind == T_LPAREN) { adv(m); skip_parens(m); continue; }
        adv(m);
    }
    int32_t key = -1;
    if (op == OP_icmp || op == OP_fcmp) {
        if (!at(m, T_KW)) fail(m, cur(m)->off, "expected %s predicate", op == OP_icmp ? "icmp" : "fcmp");
        key = (int32_t)cur(m)->off;
        adv(m);
    }
    expect(m, T_LPAREN, NULL);
    if (op == OP_getelementptr) {
        parse_type(m);
        expect(m, T_COMMA, NULL);
    }
    for (;;) {
        if (atkw(m, FL_inrange)) adv(m);
        push(m, parse_typed_value(m));
        if (cast_opcode(op) && eatkw(m, KW_to)) { parse_type(m); break; }
        if (!eat(m, T_COMMA)) break;
        if (op == OP_extractvalue || op == OP_insertvalue) {
            /* indices follow the aggregate operands */
            while (at(m, T_INT)) { adv(m); if (!eat(m, T_COMMA)) break; }
            if (at(m, T_RPAREN)) break;
        }
    }
    expect(m, T_RPAREN, NULL);
    int32_t vid = new_const(m, LLP_C_EXPR, type, off, prev_end(m), base, key);
    ROW(m, LLP_CONSTS, NROWS(m, LLP_CONSTS) - 1)[6] = key >= 0 ? key : (int32_t)(-1 - op);
    return vid;
}

static int32_t parse_aggregate(llp_module *m, int32_t type, int close, int kind) {
    size_t off = cur(m)->off, base = m->scr_n;
    adv(m);
    if (close == T_GT && at(m, T_LBRACE)) { adv(m); close = -2; }   /* <{ ... }> */
    int closer = close == -2 ? T_RBRACE : close;
    if (!at(m, closer)) {
        for (;;) {
            push(m, parse_typed_value(m));
            if (!eat(m, T_COMMA)) break;
        }
    }
    expect(m, closer, NULL);
    if (close == -2) expect(m, T_GT, NULL);
    return new_const(m, kind, type, off, prev_end(m), base, -1);
}

static int32_t parse_inline_asm(llp_module *m, int32_t type) {
    size_t off = cur(m)->off, base = m->scr_n;
    adv(m);
    while (atkw(m, KW_sideeffect) || atkw(m, KW_alignstack) || atkw(m, KW_inteldialect) || atkw(m, KW_unwind)) adv(m);
    expect(m, T_STRING, "string constant for inline asm");
    expect(m, T_COMMA, NULL);
    expect(m, T_STRING, "constraint string for inline asm");
    return new_const(m, LLP_C_ASM, type, off, prev_end(m), base, -1);
}

/* the value of a typed operand; `type` is the already-parsed type id */
static int32_t parse_value(llp_module *m, int32_t type) {
    tok_t t_v = *cur(m), *t = &t_v;
    size_t off = t->off, base = m->scr_n;
    if (++m->depth > MAX_DEPTH) fail(m, t->off, "constant nesting too deep");
    int32_t vid;
    if (type == m->t_metadata) {   /* types are interned: one id for `metadata` */
        if (at(m, T_EXCLAIM) || at(m, T_METAVAR)) parse_md(m);
        else push(m, parse_typed_value(m));
        vid = new_const(m, LLP_C_METADATA, type, off, prev_end(m), base, -1);
        m->depth--;
        return vid;
    }
    switch (t->kind) {
    case T_LOCAL: adv(m); vid = use_name(m, t, 1, type); break;
    case T_GLOBAL: adv(m); vid = use_name(m, t, 0, type); break;
    case T_INT: adv(m); vid = new_const(m, LLP_C_INT, type, off, prev_end(m), base, -1); break;
    case T_FP: adv(m); vid = new_const(m, LLP_C_FP, type, off, prev_end(m), base, -1); break;
    case T_CSTRING: adv(m); vid = new_const(m, LLP_C_STRING, type, off, prev_end(m), base, -1); break;
    case T_LSQ: vid = parse_aggregate(m, type, T_RSQ, LLP_C_AGGREGATE); break;
    case T_LBRACE: vid = parse_aggregate(m, type, T_RBRACE, LLP_C_AGGREGATE); break;
    case T_LT: vid = parse_aggregate(m, type, T_GT, LLP_C_AGGREGATE); break;
    case T_KW:
        switch (t->kw) {
        case KW_true: case KW_false: adv(m); vid = new_const(m, LLP_C_INT, type, off, prev_end(m), base, -1); break;
        case KW_null: adv(m); vid = new_const(m, LLP_C_NULL, type, off, prev_end(m), base, -1); break;
        case KW_undef: adv(m); vid = new_const(m, LLP_C_UNDEF, type, off, prev_end(m), base, -1); break;
        case KW_poison: adv(m); vid = new_const(m, LLP_C_POISON, type, off, prev_end(m), base, -1); break;
        case KW_zeroinitializer: adv(m); vid = new_const(m, LLP_C_ZERO, type, off, prev_end(m), base, -1); break;
        case KW_none: adv(m); vid = new_const(m, LLP_C_NONE, type, off, prev_end(m), base, -1); break;
        case KW_asm: vid = parse_inline_asm(m, type); break;
        case KW_blockaddress: {
            adv(m);
            expect(m, T_LPAREN, NULL);
            if (!at(m, T_GLOBAL)) fail(m, cur(m)->off, "expected function name in blockaddress");
            tok_t g_v = *cur(m), *g = &g_v;
            adv(m);
            push(m, use_name(m, g, 0, m->t_ptr));
            expect(m, T_COMMA, NULL);
            if (!at(m, T_LOCAL)) fail(m, cur(m)->off, "expected basic block name in blockaddress");
            adv(m);
            expect(m, T_RPAREN, NULL);
            vid = new_const(m, LLP_C_BLOCKADDRESS, type, off, prev_end(m), base, -1);
            break;
        }
        case KW_dso_local_equivalent: case KW_no_cfi: {
            adv(m);
            if (!at(m, T_GLOBAL)) fail(m, cur(m)->off, "expected global value name");
            tok_t g_v = *cur(m), *g = &g_v;
            adv(m);
            push(m, use_name(m, g, 0, type));
            vid = new_const(m, LLP_C_OTHER, type, off, prev_end(m), base, -1);
            break;
        }
        case KW_ptrauth: case KW_splat:
            adv(m);
            expect(m, T_LPAREN, NULL);
            for (;;) {
                push(m, parse_typed_value(m));
                if (!eat(m, T_COMMA)) break;
            }
            expect(m, T_RPAREN, NULL);
            vid = new_const(m, LLP_C_OTHER, type, off, prev_end(m), base, -1);
            break;
        default:
            if (IS_OPCODE(t->kw)) { vid = parse_const_expr(m, type); break; }
            fail(m, t->off, "expected value token");
        }
        break;
    default:
        fail(m, t->off, "expected value token");
    }
    m->depth--;
    return vid;
}

static int32_t parse_typed_value(llp_module *m) {
    int32_t ty = parse_type(m);
    return parse_value(m, ty);
}

/* ------------------------------------------------------------------ metadata */
static void parse_md_node_body(llp_module *m) {   /* at '{' */
    adv(m);
    if (!at(m, T_RBRACE)) {
        for (;;) {
            if (at(m, T_EXCLAIM) || at(m, T_METAVAR)) parse_md(m);
            else if (atkw(m, KW_null)) adv(m);
            else parse_typed_value(m);
            if (!eat(m, T_COMMA)) break;
        }
    }
    expect(m, T_RBRACE, NULL);
}

static void parse_md(llp_module *m) {
    tok_t t_v = *cur(m), *t = &t_v;
    if (++m->depth > MAX_DEPTH) fail(m, t->off, "metadata nesting too deep");
    if (t->kind == T_EXCLAIM) {
        adv(m);
        if (at(m, T_STRING)) adv(m);
        else if (at(m, T_LBRACE)) parse_md_node_body(m);
        else fail(m, cur(m)->off, "expected metadata");
    } else if (t->kind == T_METAVAR) {
        adv(m);
        if (at(m, T_LPAREN)) {           /* specialised node !DIxxx(...) */
            size_t nlen = t->len - 1;
            if (nlen == 9 && memcmp(m->src + t->off + 1, "DIArgList", 9) == 0) {
                adv(m);
                if (!at(m, T_RPAREN)) {
                    for (;;) { parse_typed_value(m); if (!eat(m, T_COMMA)) break; }
                }
                expect(m, T_RPAREN, NULL);
            } else {
                skip_parens(m);
            }
        }
    } else if (atkw(m, KW_null)) {
        adv(m);
    } else {
        fail(m, t->off, "expected metadata");
    }
    m->depth--;
}

/* , !kind !md ... at the end of an instruction or global; returns offset of the first ',' or -1 */
static int32_t parse_attachments(llp_module *m) {
    int32_t first = -1;
    while (at(m, T_COMMA) && peekn(m, 1)->kind == T_METAVAR) {
        if (first < 0) first = (int32_t)cur(m)->off;
        adv(m);
        adv(m);
        parse_md(m);
    }
    return first;
}

/* ------------------------------------------------------------------ attributes */
/* keywords that are never an attribute nor a header word: after a global or in a function header they
 * end it (LLVM then says "expected top-level entity"), as `@g = global i32 99x` lexes 99, then x */
static int never_attr(int kw) {
    switch (kw) {
    case KW_x: case KW_vscale: case KW_to: case KW_true: case KW_false: case KW_null: case KW_undef:
    case KW_poison: case KW_zeroinitializer: case KW_none: case KW_blockaddress: case KW_dso_local_equivalent:
    case KW_no_cfi: case KW_ptrauth: case KW_asm: case KW_splat: case KW_define: case KW_declare:
    case KW_global: case KW_constant: case KW_alias: case KW_ifunc: case KW_attributes:
    case KW_source_filename: case KW_datalayout: case KW_triple: case KW_module: case KW_uselistorder:
    case KW_uselistorder_bb: case KW_deplibs: case KW_within: case KW_from: case KW_caller: case KW_catch:
    case KW_filter: case KW_syncscope: case KW_unordered: case KW_monotonic: case KW_acquire: case KW_release:
    case KW_acq_rel: case KW_seq_cst: case KW_distinct: case KW_type: case KW_opaque: case KW_unwind:
    case KW_sideeffect: case KW_inteldialect: case KW_dbg_value: case KW_dbg_declare: case KW_dbg_assign:
    case KW_dbg_label: case KW_dbg_declare_value: case KW_DIArgList:
        return 1;
    default:
        return IS_OPCODE(kw);
    }
}

/* parameter/return/function attributes: keywords, kw(...), align N, "k"="v", #N */
static int skip_attr(llp_module *m, int allow_grp) {
    tok_t t_v = *cur(m), *t = &t_v;
    if (t->kind == T_STRING) {
        adv(m);
        if (eat(m, T_EQ)) expect(m, T_STRING, NULL);
        return 1;
    }
    if (t->kind == T_ATTRGRP && allow_grp) { adv(m); return 1; }
    if (t->kind != T_KW) return 0;
    if (is_type_start(m)) return 0;
    if (never_attr(t->kw) || t->kw == FL_tail || t->kw == FL_musttail || t->kw == FL_notail) return 0;
    int kw = t->kw;
    adv(m);
    if (at(m, T_LPAREN)) skip_parens(m);
    else if ((kw == KW_align || kw == KW_cc) && at(m, T_INT)) adv(m);
    else if (kw == KW_addrspace) fail(m, cur(m)->off, "expected '(' in address space");
    return 1;
}
static void skip_attrs(llp_module *m, int allow_grp) { while (skip_attr(m, allow_grp)) {} }

/* ------------------------------------------------------------------ instructions */
static int32_t elem_of(llp_module *m, int32_t t) {
    int32_t *r = TY(m, t);
    if (r[0] == LLP_T_VECTOR || r[0] == LLP_T_ARRAY) return r[1];
    return -1;
}
static int32_t i1_like(llp_module *m, int32_t t) {
    int32_t *r = TY(m, t);
    if (r[0] == LLP_T_VECTOR) return vec_type(m, m->t_i1, r[2], r[3]);
    return m->t_i1;
}
static int32_t resolve_named(llp_module *m, int32_t t) {
    for (int i = 0; i < 64 && t >= 0 && TY(m, t)[0] == LLP_T_NAMED; i++) t = ROW(m, LLP_NAMED, TY(m, t)[1])[3];
    return t;
}
/* the type reached by one aggregate index (struct member / array element), or -1 */
static int32_t index_type(llp_module *m, int32_t t, long long idx) {
    t = resolve_named(m, t);
    if (t < 0) return -1;
    int32_t *r = TY(m, t);
    if (r[0] == LLP_T_STRUCT) {
        if (idx < 0 || idx >= r[5]) return -1;
        return m->t[LLP_TYPELIST].d[r[4] + idx];
    }
    if (r[0] == LLP_T_ARRAY || r[0] == LLP_T_VECTOR) return r[1];
    return -1;
}

static int32_t const_int_value(llp_module *m, int32_t vid, long long *out) {
    int32_t *v = ROW(m, LLP_VALUES, vid);
    if (v[0] != LLP_V_CONST) return 0;
    int32_t *c = ROW(m, LLP_CONSTS, v[1]);
    if (c[0] != LLP_C_INT) return 0;
    const char *s = m->src + c[2];
    if (!(is_digit((unsigned char)s[0]) || s[0] == '-')) return 0;
    tok_t tk = {T_INT, 0, (uint32_t)c[2], (uint32_t)(c[3] - c[2]), -1};
    *out = tok_int(m, &tk);
    return 1;
}

static int32_t value_type(llp_module *m, int32_t vid) { return ROW(m, LLP_VALUES, vid)[2]; }

/* result type of a getelementptr: ptr (or a vector of them) for opaque pointers; for typed
 * pointers, a pointer to the indexed type */
static int32_t gep_result(llp_module *m, int32_t srcty, size_t base) {
    int32_t bt = value_type(m, m->scr[base]);
    long vn = -1;
    int scal = 0;
    for (size_t i = base; i < m->scr_n; i++) {
        int32_t t = value_type(m, m->scr[i]);
        if (t >= 0 && TY(m, t)[0] == LLP_T_VECTOR) { vn = TY(m, t)[2]; scal = TY(m, t)[3]; }
    }
    int32_t pt = bt;
    if (pt >= 0 && TY(m, pt)[0] == LLP_T_VECTOR) pt = TY(m, pt)[1];
    if (pt >= 0 && TY(m, pt)[0] == LLP_T_PTR && TY(m, pt)[2] >= 0) {   /* typed pointer */
        int32_t t = srcty;
        for (size_t i = base + 2; i < m->scr_n && t >= 0; i++) {
            long long k = 0;
            int32_t r = resolve_named(m, t);
            if (r >= 0 && TY(m, r)[0] == LLP_T_STRUCT && !const_int_value(m, m->scr[i], &k)) { t = -1; break; }
            t = index_type(m, t, k);
        }
        if (t >= 0) {
            size_t tb = m->cscr_n, lb = m->scr_n;
            int32_t as = TY(m, pt)[1];
            cpush_type(m, t);
            if (as) {
                char buf[40];
                snprintf(buf, sizeof buf, " addrspace(%d)*", as);
                cputs(m, buf);
            } else cputs(m, "*");
            /* type_intern resets scratch to lb, which is above the operands we still need */
            pt = type_intern(m, LLP_T_PTR, as, t, -1, lb, tb);
        } else {
            pt = ptr_type(m, TY(m, pt)[1]);
        }
    }
    if (vn >= 0 && pt >= 0) return vec_type(m, pt, vn, scal);
    return pt;
}

typedef struct { int32_t op, flags, type, key, aux, md, nargs; size_t base, nops, total; } inst_t;

/* call-like operand list: ( args ) with attrs, metadata args and '...' */
static void parse_call_args(llp_module *m) {
    expect(m, T_LPAREN, NULL);
    if (!at(m, T_RPAREN)) {
        for (;;) {
            if (eat(m, T_DOTS)) break;
            int32_t ty = parse_type(m);
            skip_attrs(m, 0);
            push(m, parse_value(m, ty));
            if (!eat(m, T_COMMA)) break;
        }
    }
    expect(m, T_RPAREN, NULL);
}
/* [ "tag"(ty v, ...), ... ] operand bundles */
static void parse_bundles(llp_module *m) {
    if (!at(m, T_LSQ)) return;
    adv(m);
    for (;;) {
        expect(m, T_STRING, "operand bundle tag");
        expect(m, T_LPAREN, NULL);
        if (!at(m, T_RPAREN)) {
            for (;;) { push(m, parse_typed_value(m)); if (!eat(m, T_COMMA)) break; }
        }
        expect(m, T_RPAREN, NULL);
        if (!eat(m, T_COMMA)) break;
    }
    expect(m, T_RSQ, NULL);
}
static int32_t label_operand(llp_module *m) {
    if (!eatkw(m, KW_label)) fail(m, cur(m)->off, "expected 'label' here");
    if (!at(m, T_LOCAL)) fail(m, cur(m)->off, "expected basic block name");
    tok_t t_v = *cur(m), *t = &t_v;
    adv(m);
    return use_name(m, t, 1, m->t_label);
}
static int32_t local_operand(llp_module *m, const char *what) {
    if (atkw(m, KW_none)) { size_t off = cur(m)->off, b = m->scr_n; adv(m); return new_const(m, LLP_C_NONE, m->t_token, off, prev_end(m), b, -1); }
    if (!at(m, T_LOCAL)) fail(m, cur(m)->off, "expected %s", what);
    tok_t t_v = *cur(m), *t = &t_v;
    adv(m);
    return use_name(m, t, 1, m->t_token);
}
/* callee and signature: [cc] [ret attrs] [addrspace(N)] ty callee; returns the function type */
static int32_t parse_callee(llp_module *m, inst_t *in, int32_t *callee) {
    skip_attrs(m, 0);
    int32_t ty = parse_type_noexcept(m, 0);
    /* typed-pointer era: `call void (i8*, ...)* @f(...)`, a pointer-to-function type */
    ty = type_suffix(m, ty);
    int32_t fty = ty;
    in->type = TY(m, fty)[0] == LLP_T_FUNC ? TY(m, fty)[1] : ty;
    *callee = parse_value(m, m->t_ptr);
    return fty;
}

/* syncscope, orderings, `, align N`, `, addrspace(N)`; returns that address space or -1 */
static long long parse_tail(llp_module *m) {
    long long as = -1;
    for (;;) {
        if (atkw(m, KW_syncscope)) { adv(m); expect(m, T_LPAREN, NULL); expect(m, T_STRING, NULL); expect(m, T_RPAREN, NULL); continue; }
        if (cur(m)->kind == T_KW && cur(m)->kw >= KW_unordered && cur(m)->kw <= KW_seq_cst) { adv(m); continue; }
        if (at(m, T_COMMA) && peekn(m, 1)->kind == T_KW && peekn(m, 1)->kw == KW_align) {
            adv(m); adv(m);
            expect_uint(m, "alignment");
            continue;
        }
        if (at(m, T_COMMA) && peekn(m, 1)->kind == T_KW && peekn(m, 1)->kw == KW_addrspace) {
            adv(m); adv(m);
            expect(m, T_LPAREN, NULL);
            as = expect_uint(m, "address space");
            expect(m, T_RPAREN, NULL);
            continue;
        }
        return as;
    }
}

static void parse_instruction_body(llp_module *m, inst_t *in) {
    while (atkw(m, FL_tail) || atkw(m, FL_musttail) || atkw(m, FL_notail)) {
        in->flags |= (int32_t)FLAG_BIT(cur(m)->kw);
        adv(m);
    }
    tok_t t_v = *cur(m), *t = &t_v;
    if (t->kind != T_KW || !IS_OPCODE(t->kw)) fail(m, t->off, "expected instruction opcode");
    int op = t->kw;
    in->op = op;
    adv(m);
    /* flags and calling-convention/attribute words after the opcode */
    for (;;) {
        tok_t f_v = *cur(m), *f = &f_v;
        if (f->kind != T_KW || !IS_FLAG(f->kw)) break;
        in->flags |= (int32_t)FLAG_BIT(f->kw);
        adv(m);
        if (f->kw == FL_inrange && at(m, T_LPAREN)) skip_parens(m);
    }
    int32_t ty, v;
    switch (op) {
    case OP_ret:
        if (atkw(m, KW_void) && peekn(m, 1)->kind != T_LPAREN && peekn(m, 1)->kind != T_STAR) { adv(m); break; }
        push(m, parse_typed_value(m));
        break;
    case OP_br:
        if (atkw(m, KW_label)) { push(m, label_operand(m)); break; }
        {
            int32_t c = parse_typed_value(m);
            expect(m, T_COMMA, NULL);
            int32_t tt = label_operand(m);
            expect(m, T_COMMA, NULL);
            int32_t ff = label_operand(m);
            push(m, c); push(m, ff); push(m, tt);
        }
        break;
    case OP_switch: {
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        push(m, label_operand(m));
        expect(m, T_LSQ, "'[' with switch table");
        size_t cb = m->scr_n;
        while (!at(m, T_RSQ)) {
            push(m, parse_typed_value(m));
            expect(m, T_COMMA, NULL);
            push(m, label_operand(m));
            if (at(m, T_EOF)) fail(m, cur(m)->off, "expected ']'");
        }
        adv(m);
        /* LLVM 22's operands: condition, default, the case destinations; the case values
           follow them, outside the operand count, as a phi's incoming blocks do */
        size_t n = (m->scr_n - cb) / 2;
        if (n) {
            int32_t *tmp = malloc(n * 2 * sizeof(int32_t));
            if (!tmp) fail(m, cur(m)->off, "out of memory");
            for (size_t i = 0; i < n; i++) { tmp[i] = m->scr[cb + 2 * i + 1]; tmp[n + i] = m->scr[cb + 2 * i]; }
            memcpy(m->scr + cb, tmp, n * 2 * sizeof(int32_t));
            free(tmp);
        }
        in->nops = 2 + n;
        break;
    }
    case OP_indirectbr:
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        expect(m, T_LSQ, NULL);
        if (!at(m, T_RSQ)) {
            for (;;) { push(m, label_operand(m)); if (!eat(m, T_COMMA)) break; }
        }
        expect(m, T_RSQ, NULL);
        break;
    case OP_invoke: case OP_callbr: case OP_call: {
        int32_t callee;
        in->key = parse_callee(m, in, &callee);
        size_t ab = m->scr_n;
        parse_call_args(m);
        in->nargs = (int32_t)(m->scr_n - ab);
        if (TY(m, in->key)[0] != LLP_T_FUNC) {   /* signature implied by the arguments */
            size_t lb = m->scr_n, tb = m->cscr_n;
            cpush_type(m, in->key);
            cputs(m, " (");
            for (size_t i = ab; i < lb; i++) {
                int32_t at_ = value_type(m, m->scr[i]);
                if (at_ < 0) at_ = m->t_ptr;
                if (i > ab) cputs(m, ", ");
                cpush_type(m, at_);
                push(m, at_);
            }
            cputs(m, ")");
            in->key = type_intern(m, LLP_T_FUNC, in->key, 0, -1, lb, tb);
        }
        skip_attrs(m, 1);
        parse_bundles(m);
        if (op == OP_invoke) {
            expectkw(m, KW_to);
            push(m, label_operand(m));
            expectkw(m, KW_unwind);
            push(m, label_operand(m));
        } else if (op == OP_callbr) {
            expectkw(m, KW_to);
            push(m, label_operand(m));
            expect(m, T_LSQ, NULL);
            if (!at(m, T_RSQ)) {
                for (;;) { push(m, label_operand(m)); if (!eat(m, T_COMMA)) break; }
            }
            expect(m, T_RSQ, NULL);
        }
        in->aux = callee;
        push(m, callee);
        break;
    }
    case OP_resume:
        push(m, parse_typed_value(m));
        break;
    case OP_unreachable: break;
    case OP_cleanupret:
        expectkw(m, KW_from);
        push(m, local_operand(m, "cleanuppad"));
        expectkw(m, KW_unwind);
        if (eatkw(m, KW_to)) expectkw(m, KW_caller);
        else push(m, label_operand(m));
        break;
    case OP_catchret:
        expectkw(m, KW_from);
        push(m, local_operand(m, "catchpad"));
        expectkw(m, KW_to);
        push(m, label_operand(m));
        break;
    case OP_catchswitch: {
        expectkw(m, KW_within);
        push(m, local_operand(m, "parent pad"));
        size_t hb = m->scr_n;
        expect(m, T_LSQ, NULL);
        for (;;) { push(m, label_operand(m)); if (!eat(m, T_COMMA)) break; }
        expect(m, T_RSQ, NULL);
        expectkw(m, KW_unwind);
        if (eatkw(m, KW_to)) expectkw(m, KW_caller);
        else {   /* LLVM keeps the unwind dest right after the parent pad */
            int32_t u = label_operand(m);
            push(m, 0);
            memmove(m->scr + hb + 1, m->scr + hb, (m->scr_n - 1 - hb) * sizeof(int32_t));
            m->scr[hb] = u;
        }
        in->type = m->t_token;
        break;
    }
    case OP_catchpad: case OP_cleanuppad: {
        expectkw(m, KW_within);
        int32_t parent = local_operand(m, "parent pad");
        expect(m, T_LSQ, NULL);
        if (!at(m, T_RSQ)) {
            for (;;) { push(m, parse_typed_value(m)); if (!eat(m, T_COMMA)) break; }
        }
        expect(m, T_RSQ, NULL);
        push(m, parent);
        in->type = m->t_token;
        break;
    }
    case OP_fneg: case OP_freeze:
        ty = parse_type(m);
        push(m, parse_value(m, ty));
        in->type = ty;
        break;
    case OP_add: case OP_fadd: case OP_sub: case OP_fsub: case OP_mul: case OP_fmul: case OP_udiv:
    case OP_sdiv: case OP_fdiv: case OP_urem: case OP_srem: case OP_frem: case OP_shl: case OP_lshr:
    case OP_ashr: case OP_and: case OP_or: case OP_xor:
        ty = parse_type(m);
        push(m, parse_value(m, ty));
        expect(m, T_COMMA, NULL);
        push(m, parse_value(m, ty));
        in->type = ty;
        break;
    case OP_icmp: case OP_fcmp:
        if (!at(m, T_KW)) fail(m, cur(m)->off, "expected %s predicate", op == OP_icmp ? "icmp" : "fcmp");
        in->key = (int32_t)cur(m)->off;
        adv(m);
        ty = parse_type(m);
        push(m, parse_value(m, ty));
        expect(m, T_COMMA, NULL);
        push(m, parse_value(m, ty));
        in->type = i1_like(m, ty);
        break;
    case OP_alloca:
        ty = parse_type(m);
        in->aux = ty;
        if (at(m, T_COMMA) && peekn(m, 1)->kind != T_METAVAR &&
            !(peekn(m, 1)->kind == T_KW && (peekn(m, 1)->kw == KW_align || peekn(m, 1)->kw == KW_addrspace))) {
            adv(m);
            push(m, parse_typed_value(m));
        } else {   /* LLVM's AllocaInst always has the array size operand: i32 1 */
            size_t b = m->scr_n;
            push(m, new_const(m, LLP_C_INT, m->t_i32, 0, 0, b, -1));
        }
        {
            int as = m->alloca_as;
            long long given = parse_tail(m);
            if (given >= 0) as = (int)given;
            int32_t pt = ptr_type(m, as);
            (void)pt;
            in->type = pt;
        }
        break;
    case OP_load:
        ty = parse_type(m);
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        in->type = ty;
        break;
    case OP_store:
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        break;
    case OP_fence: break;
    case OP_cmpxchg: {
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        int32_t cmp = parse_typed_value(m);
        push(m, cmp);
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        size_t lb = m->scr_n;
        push(m, value_type(m, cmp));
        push(m, m->t_i1);
        in->type = struct_scr(m, lb, 0);
        break;
    }
    case OP_atomicrmw:
        if (!at(m, T_KW)) fail(m, cur(m)->off, "expected binary operation in atomicrmw");
        in->key = (int32_t)cur(m)->off;
        adv(m);
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        v = parse_typed_value(m);
        push(m, v);
        in->type = value_type(m, v);
        break;
    case OP_getelementptr: {
        ty = parse_type(m);
        in->aux = ty;
        expect(m, T_COMMA, NULL);
        size_t b = m->scr_n;
        push(m, parse_typed_value(m));
        while (at(m, T_COMMA) && peekn(m, 1)->kind != T_METAVAR) {
            adv(m);
            if (atkw(m, FL_inrange)) adv(m);
            push(m, parse_typed_value(m));
        }
        in->type = gep_result(m, ty, b);
        break;
    }
    case OP_trunc: case OP_zext: case OP_sext: case OP_fptrunc: case OP_fpext: case OP_fptoui:
    case OP_fptosi: case OP_uitofp: case OP_sitofp: case OP_ptrtoint: case OP_ptrtoaddr: case OP_inttoptr:
    case OP_bitcast: case OP_addrspacecast:
        push(m, parse_typed_value(m));
        expectkw(m, KW_to);
        in->type = parse_type(m);
        break;
    case OP_va_arg:
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        in->type = parse_type(m);
        break;
    case OP_phi: {
        ty = parse_type(m);
        in->type = ty;
        size_t vb = m->scr_n;
        int n = 0;
        for (;;) {
            expect(m, T_LSQ, NULL);
            push(m, parse_value(m, ty));
            expect(m, T_COMMA, NULL);
            if (!at(m, T_LOCAL)) fail(m, cur(m)->off, "expected basic block name");
            tok_t b_v = *cur(m), *b = &b_v;
            adv(m);
            push(m, use_name(m, b, 1, m->t_label));
            expect(m, T_RSQ, NULL);
            n++;
            if (!(at(m, T_COMMA) && peekn(m, 1)->kind == T_LSQ)) break;
            adv(m);
        }
        /* values first, then the incoming blocks */
        int32_t *tmp = malloc((size_t)n * 2 * sizeof(int32_t));
        if (!tmp) fail(m, cur(m)->off, "out of memory");
        for (int i = 0; i < n; i++) { tmp[i] = m->scr[vb + 2 * i]; tmp[n + i] = m->scr[vb + 2 * i + 1]; }
        memcpy(m->scr + vb, tmp, (size_t)n * 2 * sizeof(int32_t));
        free(tmp);
        in->nops = (size_t)n;
        break;
    }
    case OP_select: {
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        v = parse_typed_value(m);
        push(m, v);
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        in->type = value_type(m, v);
        break;
    }
    case OP_extractelement:
        v = parse_typed_value(m);
        push(m, v);
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        in->type = elem_of(m, value_type(m, v));
        if (in->type < 0) fail(m, t->off, "extractelement operand must be a vector");
        break;
    case OP_insertelement:
        v = parse_typed_value(m);
        push(m, v);
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        in->type = value_type(m, v);
        break;
    case OP_shufflevector: {
        v = parse_typed_value(m);
        push(m, v);
        expect(m, T_COMMA, NULL);
        push(m, parse_typed_value(m));
        expect(m, T_COMMA, NULL);
        size_t keep = m->scr_n;
        int32_t mty = parse_type(m);
        int32_t mask = parse_value(m, mty);   /* the mask is a constant, not an operand */
        m->scr_n = keep;
        in->aux = mask;
        int32_t e = elem_of(m, value_type(m, v));
        if (e < 0 || TY(m, mty)[0] != LLP_T_VECTOR) fail(m, t->off, "invalid shufflevector operands");
        in->type = vec_type(m, e, TY(m, mty)[2], TY(m, mty)[3]);
        break;
    }
    case OP_extractvalue: case OP_insertvalue: {
        v = parse_typed_value(m);
        push(m, v);
        if (op == OP_insertvalue) { expect(m, T_COMMA, NULL); push(m, parse_typed_value(m)); }
        int32_t start = NROWS(m, LLP_INDICES), cnt = 0;
        int32_t at_ty = value_type(m, v);
        while (at(m, T_COMMA) && peekn(m, 1)->kind == T_INT) {
            adv(m);
            long long k = tok_int(m, cur(m));
            row(m, LLP_INDICES)[0] = (int32_t)k;
            cnt++;
            if (at_ty >= 0) at_ty = index_type(m, at_ty, k);
            adv(m);
        }
        if (!cnt) fail(m, cur(m)->off, "expected index");
        in->aux = start;
        in->key = cnt;
        in->type = op == OP_insertvalue ? value_type(m, v) : at_ty;
        if (in->type < 0) in->type = -2;   /* resolved once every named type is known */
        break;
    }
    case OP_landingpad:
        in->type = parse_type(m);
        for (;;) {
            if (atkw(m, FL_cleanup)) { adv(m); in->flags |= (int32_t)FLAG_BIT(FL_cleanup); continue; }
            if (atkw(m, KW_catch) || atkw(m, KW_filter)) { adv(m); push(m, parse_typed_value(m)); continue; }
            break;
        }
        break;
    default:
        fail(m, t->off, "expected instruction opcode");
    }
    parse_tail(m);
    in->md = parse_attachments(m);
}

/* ------------------------------------------------------------------ functions */
static int32_t new_block(llp_module *m, tok_t *label) {
    int32_t idx = NROWS(m, LLP_BLOCKS);
    int32_t vid = new_value(m, LLP_V_BLOCK, idx, m->t_label);
    int32_t *r = row(m, LLP_BLOCKS);
    r[0] = m->cur_func;
    r[3] = NROWS(m, LLP_INSTS);
    r[4] = 0;
    r[5] = vid;
    if (label) {
        uint32_t off, len;
        name_key(m, label, &off, &len);
        r[1] = (int32_t)off; r[2] = (int32_t)len;
        r[6] = (int32_t)label->off; r[7] = (int32_t)(label->off + label->len);
        long long num;
        if (key_is_num(m, off, len, &num)) {
            if (num < m->next_local) fail(m, label->off, "label expected to be numbered '%d' or greater", m->next_local);
            m->next_local = (int32_t)num;
            define_unnamed(m, vid);
        } else {
            define_name(m, label, 1, vid);
        }
    } else {
        define_unnamed(m, vid);
    }
    int32_t *f = ROW(m, LLP_FUNCS, m->cur_func);
    f[7]++;
    m->cur_block = idx;
    return idx;
}

static int is_terminator(int op) { return op >= OP_ret && op <= OP_callbr; }

static void parse_function_body(llp_module *m) {
    int32_t fi = m->cur_func;
    int32_t *f = ROW(m, LLP_FUNCS, fi);
    f[6] = NROWS(m, LLP_BLOCKS);
    f[7] = 0;
    expect(m, T_LBRACE, NULL);
    int need_block = 1;
    size_t dbg_pending = NROWS(m, LLP_DBGRECS);
    for (;;) {
        tok_t t_v = *cur(m), *t = &t_v;
        if (t->kind == T_RBRACE) break;
        if (t->kind == T_EOF) fail(m, t->off, "expected instruction opcode");
        if (t->kind == T_KW && (t->kw == KW_uselistorder || t->kw == KW_uselistorder_bb)) {
            /* use-list orders end the body; they are kept verbatim */
            f = ROW(m, LLP_FUNCS, fi);
            if (f[14] < 0) { f[14] = (int32_t)t->off; f[15] = NROWS(m, LLP_REFS); }
            if (t->kw == KW_uselistorder) {
                adv(m);
                parse_typed_value(m);
            } else {
                adv(m);
                if (!at(m, T_GLOBAL) && !at(m, T_LOCAL)) fail(m, cur(m)->off, "expected function name in uselistorder_bb");
                adv(m);
                expect(m, T_COMMA, NULL);
                if (!at(m, T_LOCAL)) fail(m, cur(m)->off, "expected basic block name in uselistorder_bb");
                adv(m);
            }
            expect(m, T_COMMA, NULL);
            if (!at(m, T_LBRACE)) fail(m, cur(m)->off, "expected '{' here");
            skip_parens(m);
            continue;
        }
        if (ROW(m, LLP_FUNCS, fi)[14] >= 0) fail(m, t->off, "expected uselistorder directive");
        if (t->kind == T_LABEL) {
            new_block(m, t);
            adv(m);
            need_block = 0;
            continue;
        }
        if (need_block) { new_block(m, NULL); need_block = 0; }
        if (t->kind == T_HASHKW) {   /* #dbg_value(...) debug record before the next instruction */
            int32_t *r = row(m, LLP_DBGRECS);
            r[1] = (int32_t)t->off;
            r[3] = NROWS(m, LLP_REFS);
            adv(m);
            if (t->kw != KW_dbg_value && t->kw != KW_dbg_declare && t->kw != KW_dbg_assign &&
                t->kw != KW_dbg_label && t->kw != KW_dbg_declare_value)
                fail(m, t->off, "expected debug record type here");
            expect(m, T_LPAREN, NULL);
            for (;;) {
                if (at(m, T_EXCLAIM) || at(m, T_METAVAR) || atkw(m, KW_null)) parse_md(m);
                else parse_typed_value(m);
                if (!eat(m, T_COMMA)) break;
            }
            expect(m, T_RPAREN, NULL);
            r = ROW(m, LLP_DBGRECS, NROWS(m, LLP_DBGRECS) - 1);
            r[2] = (int32_t)prev_end(m);
            r[4] = NROWS(m, LLP_REFS);
            continue;
        }
        /* [%name =] instruction */
        tok_t *name = NULL;
        if (t->kind == T_LOCAL) {
            name = t;
            adv(m);
            expect(m, T_EQ, NULL);
        }
        inst_t in = {0, 0, m->t_void, -1, -1, -1, -1, m->scr_n, (size_t)-1, 0};
        int32_t ii = NROWS(m, LLP_INSTS);
        size_t ref_start = NROWS(m, LLP_REFS);
        size_t off = cur(m)->off;
        parse_instruction_body(m, &in);
        size_t total = m->scr_n - in.base;
        if (in.nops == (size_t)-1) in.nops = total;
        int32_t vid = new_value(m, LLP_V_INST, ii, in.type);
        int32_t *r = row_raw(m, LLP_INSTS);   /* all 18 columns set below */
        r[0] = in.op; r[1] = in.flags; r[2] = in.type; r[3] = m->cur_block;
        r[4] = NROWS(m, LLP_OPERANDS); r[5] = (int32_t)in.nops; r[6] = (int32_t)total;
        r[7] = (int32_t)off; r[8] = (int32_t)prev_end(m);
        if (name) {
            uint32_t ko, kl;
            name_key(m, name, &ko, &kl);
            r[9] = (int32_t)ko; r[10] = (int32_t)kl;
        } else {
            r[9] = -1; r[10] = 0;
        }
        r[11] = in.key; r[12] = (int32_t)ref_start; r[13] = NROWS(m, LLP_REFS); r[14] = in.md;
        r[15] = vid; r[16] = in.aux; r[17] = in.nargs;
        append_scr(m, LLP_OPERANDS, in.base);
        m->scr_n = in.base;
        for (size_t d = dbg_pending; d < (size_t)NROWS(m, LLP_DBGRECS); d++) ROW(m, LLP_DBGRECS, d)[0] = ii;
        dbg_pending = NROWS(m, LLP_DBGRECS);
        int is_void = in.type == m->t_void;
        if (name) {
            if (is_void) fail(m, name->off, "instructions returning void cannot have a name");
            uint32_t ko, kl;
            long long num = name->num;
            name_key(m, name, &ko, &kl);
            if (num >= 0 || key_is_num(m, ko, kl, &num)) {
                if (num < m->next_local) fail(m, name->off, "instruction expected to be numbered '%%%d' or greater", m->next_local);
                m->next_local = (int32_t)num;
                define_unnamed(m, vid);
            } else {
                define_name(m, name, 1, vid);
            }
        } else if (!is_void) {
            define_unnamed(m, vid);
        }
        ROW(m, LLP_BLOCKS, m->cur_block)[4]++;
        if (is_terminator(in.op)) need_block = 1;
    }
    if (NROWS(m, LLP_DBGRECS) > (int32_t)dbg_pending) fail(m, cur(m)->off, "expected instruction opcode");
    f = ROW(m, LLP_FUNCS, fi);
    if (f[7] == 0) fail(m, cur(m)->off, "function body requires at least one basic block");
    {
        int32_t *lb = ROW(m, LLP_BLOCKS, NROWS(m, LLP_BLOCKS) - 1);
        if (lb[4] == 0) fail(m, cur(m)->off, "expected instruction opcode");
        int32_t *li = ROW(m, LLP_INSTS, NROWS(m, LLP_INSTS) - 1);
        if (!is_terminator(li[0])) fail(m, cur(m)->off, "expected instruction opcode");
    }
    adv(m);   /* '}' */
}

/* resolve placeholders in operands/refs from `op_start`/`ref_start`; complain about leftovers */
static int32_t final_vid(llp_module *m, int32_t vid) {
    for (int i = 0; i < 8; i++) {
        int32_t *v = ROW(m, LLP_VALUES, vid);
        if (v[0] != LLP_V_FWD || v[1] < 0) return vid;
        vid = v[1];
    }
    return vid;
}
static void check_fwd(llp_module *m, size_t val_start, int local) {
    int32_t n = NROWS(m, LLP_VALUES);
    for (int32_t i = (int32_t)val_start; i < n; i++) {
        int32_t *v = ROW(m, LLP_VALUES, i);
        if (v[0] == LLP_V_FWD && (local ? v[1] == -2 : v[1] < 0)) {
            /* find the first ref to it for the position */
            size_t pos = 0;
            for (int32_t r = 0; r < NROWS(m, LLP_REFS); r++)
                if (ROW(m, LLP_REFS, r)[2] == i) { pos = (size_t)ROW(m, LLP_REFS, r)[0]; break; }
            if (local || m->src[pos] == '%')
                fail(m, pos, "use of undefined value '%%%.*s'", (int)m->keylen[i], m->src + m->keyoff[i]);
            fail(m, pos, "use of undefined value '@%.*s'", (int)m->keylen[i], m->src + m->keyoff[i]);
        }
    }
}
/* placeholders all have vids >= lo: the rest of the operands need no look at the value table */
static void patch_range(llp_module *m, size_t op_start, size_t op_end, size_t ref_start, size_t ref_end, int32_t lo) {
    int32_t *ops = m->t[LLP_OPERANDS].d;
    const int32_t *V = m->t[LLP_VALUES].d;   /* final_vid allocates nothing: V stays put */
    for (size_t i = op_start; i < op_end; i++)
        if (ops[i] >= lo && V[(size_t)ops[i] * 3] == LLP_V_FWD) ops[i] = final_vid(m, ops[i]);
    for (size_t i = ref_start; i < ref_end; i++) {
        int32_t *r = ROW(m, LLP_REFS, i);
        if (r[2] >= lo && V[(size_t)r[2] * 3] == LLP_V_FWD) r[2] = final_vid(m, r[2]);
    }
}
static void patch(llp_module *m, size_t op_start, size_t ref_start, int32_t lo, int module_end) {
    if (module_end) {
        /* module end: local placeholders are gone, so only the ranges that used global ones */
        gfwd_close(m);
        for (size_t k = 0; k < m->gfwd_n; k += 4)
            patch_range(m, m->gfwd[k], m->gfwd[k + 1], m->gfwd[k + 2], m->gfwd[k + 3], 0);
    } else {
        patch_range(m, op_start, m->t[LLP_OPERANDS].n, ref_start, m->t[LLP_REFS].n, lo);
    }
    if (op_start == 0) {   /* module end: initializers and callees kept outside the operand table */
        for (int32_t i = 0; i < NROWS(m, LLP_GLOBALS); i++) {
            int32_t *g = ROW(m, LLP_GLOBALS, i);
            if (g[5] >= 0) g[5] = final_vid(m, g[5]);
        }
        for (int32_t i = 0; i < NROWS(m, LLP_FUNCS); i++) {   /* personality, prefix, prologue */
            int32_t *f = ROW(m, LLP_FUNCS, i);
            for (int c = 16; c <= 18; c++)
                if (f[c] >= 0) f[c] = final_vid(m, f[c]);
        }
        for (int32_t i = 0; i < NROWS(m, LLP_INSTS); i++) {
            int32_t *r = ROW(m, LLP_INSTS, i);
            if ((r[0] == OP_call || r[0] == OP_invoke || r[0] == OP_callbr) && r[16] >= 0) r[16] = final_vid(m, r[16]);
        }
    }
}

static void reset_locals(llp_module *m) {
    if (m->lmap) memset(m->lmap, 0xff, m->lmap_cap * sizeof(int32_t));
    m->lmap_n = 0;
    m->lnum_n = 0;
    m->next_local = 0;
}

static void add_entity(llp_module *m, int kind, int32_t index, size_t off, size_t ref_start, int what) {
    int32_t *r = row(m, LLP_ENTITIES);
    r[0] = kind; r[1] = index; r[2] = (int32_t)off; r[3] = (int32_t)prev_end(m);
    r[4] = (int32_t)ref_start; r[5] = NROWS(m, LLP_REFS); r[6] = what;
}

static int is_top_kw(llp_module *m) {
    if (!at(m, T_KW)) return 0;
    switch (cur(m)->kw) {
    case KW_define: case KW_declare: case KW_attributes: case KW_target: case KW_source_filename:
    case KW_module: case KW_uselistorder: case KW_uselistorder_bb: case KW_deplibs:
        return 1;
    default: return 0;
    }
}

/* define/declare: header words are skipped until the return type, the name and the params */
static void parse_function(llp_module *m, int is_define) {
    tok_t start_v = *cur(m), *start = &start_v;
    size_t ref_start = NROWS(m, LLP_REFS);
    adv(m);
    for (;;) {   /* linkage, visibility, cc, return attributes, !dbg !N on declarations */
        if (at(m, T_METAVAR)) { adv(m); parse_md(m); continue; }
        if (cur(m)->kind == T_KW && !is_type_start(m) && !never_attr(cur(m)->kw)) {
            int kw = cur(m)->kw;
            adv(m);
            if (at(m, T_LPAREN)) skip_parens(m);
            else if ((kw == KW_align || kw == KW_cc) && at(m, T_INT)) adv(m);
            continue;
        }
        if (at(m, T_STRING) && peekn(m, 1)->kind == T_EQ) { adv(m); adv(m); expect(m, T_STRING, NULL); continue; }
        if (at(m, T_STRING)) { adv(m); continue; }
        break;
    }
    int32_t ret = parse_type(m);
    if (!at(m, T_GLOBAL)) fail(m, cur(m)->off, "expected function name");
    tok_t name_v = *cur(m), *name = &name_v;
    adv(m);
    reset_locals(m);
    int32_t fi = NROWS(m, LLP_FUNCS);
    m->func_op_start = m->t[LLP_OPERANDS].n;
    m->func_ref_start = ref_start;
    m->func_val_start = m->t[LLP_VALUES].n;
    size_t nfwd0 = m->nfwd;
    m->fwd_since = -1;
    int32_t vid = new_value(m, LLP_V_FUNC, fi, m->t_ptr);
    int32_t *f = row(m, LLP_FUNCS);
    uint32_t ko, kl;
    name_key(m, name, &ko, &kl);
    f[0] = vid; f[1] = (int32_t)ko; f[2] = (int32_t)kl;
    f[4] = NROWS(m, LLP_ARGS); f[5] = 0; f[6] = NROWS(m, LLP_BLOCKS); f[7] = 0;
    f[8] = !is_define; f[9] = (int32_t)start->off; f[14] = -1; f[15] = -1;
    add_ref(m, name, vid);
    define_global(m, name, vid, "function");
    m->cur_func = fi;
    /* parameters */
    expect(m, T_LPAREN, NULL);
    size_t pb = m->scr_n;
    int vararg = 0;
    if (!at(m, T_RPAREN)) {
        for (;;) {
            if (eat(m, T_DOTS)) { vararg = 1; break; }
            int32_t pt = parse_type(m);
            skip_attrs(m, 0);
            int32_t ai = NROWS(m, LLP_ARGS);
            int32_t avid = new_value(m, LLP_V_ARG, ai, pt);
            int32_t *a = row(m, LLP_ARGS);
            a[0] = fi; a[1] = pt; a[4] = avid; a[5] = ai - ROW(m, LLP_FUNCS, fi)[4];
            a[2] = -1; a[3] = 0;
            if (at(m, T_LOCAL)) {
                tok_t an_v = *cur(m), *an = &an_v;
                name_key(m, an, &ko, &kl);
                a = ROW(m, LLP_ARGS, ai);
                a[2] = (int32_t)ko; a[3] = (int32_t)kl;
                add_ref(m, an, avid);
                long long num;
                if (key_is_num(m, ko, kl, &num)) {
                    if (num < m->next_local) fail(m, an->off, "argument expected to be numbered '%%%d' or greater", m->next_local);
                    m->next_local = (int32_t)num;
                    define_unnamed(m, avid);
                } else {
                    define_name(m, an, 1, avid);
                }
                adv(m);
            } else {
                define_unnamed(m, avid);
            }
            push(m, pt);
            ROW(m, LLP_FUNCS, fi)[5]++;
            if (!eat(m, T_COMMA)) break;
        }
    }
    expect(m, T_RPAREN, NULL);
    {
        size_t tb = m->cscr_n;
        cpush_type(m, ret);
        cputs(m, " (");
        for (size_t i = pb; i < m->scr_n; i++) {
            if (i > pb) cputs(m, ", ");
            cpush_type(m, m->scr[i]);
        }
        if (vararg) cputs(m, m->scr_n > pb ? ", ..." : "...");
        cputs(m, ")");
        int32_t fty = type_intern(m, LLP_T_FUNC, ret, vararg, -1, pb, tb);
        ROW(m, LLP_FUNCS, fi)[3] = fty;
    }
    /* trailing header: attributes, section, comdat, gc, personality/prefix/prologue, !attachments */
    for (;;) {
        tok_t t_v = *cur(m), *t = &t_v;
        if (t->kind == T_KW && (t->kw == KW_personality || t->kw == KW_prefix || t->kw == KW_prologue)) {
            adv(m);
            int32_t v = parse_typed_value(m);
            ROW(m, LLP_FUNCS, fi)[t->kw == KW_personality ? 16 : t->kw == KW_prefix ? 17 : 18] = v;
            continue;
        }
        if (t->kind == T_KW && t->kw == KW_addrspace && peekn(m, 1)->kind == T_LPAREN) {
            adv(m);
            adv(m);
            long long as = expect_uint(m, "address space");
            expect(m, T_RPAREN, NULL);
            if (as >= 1 << 24) fail(m, t->off, "invalid address space, must be a 24-bit integer");
            ROW(m, LLP_FUNCS, fi)[19] = (int32_t)as;
            ROW(m, LLP_VALUES, vid)[2] = ptr_type(m, (long)as);   /* the function as a value */
            continue;
        }
        if (t->kind == T_KW && t->kw == KW_comdat) {
            adv(m);
            if (at(m, T_LPAREN)) { adv(m); expect(m, T_COMDAT, "comdat name"); expect(m, T_RPAREN, NULL); }
            continue;
        }
        if (t->kind == T_KW && (t->kw == KW_section || t->kw == KW_gc || t->kw == KW_partition)) {
            adv(m);
            expect(m, T_STRING, NULL);
            continue;
        }
        if (t->kind == T_METAVAR && peekn(m, 1)->kind != T_EQ) { adv(m); parse_md(m); continue; }
        if (is_top_kw(m)) break;
        if (skip_attr(m, 1)) continue;
        break;
    }
    f = ROW(m, LLP_FUNCS, fi);
    f[10] = (int32_t)prev_end(m);
    f[12] = (int32_t)ref_start;
    f[13] = NROWS(m, LLP_REFS);
    if (is_define) {
        parse_function_body(m);
    }
    if (m->nfwd != nfwd0) {   /* a function without forward references has nothing to patch */
        check_fwd(m, (size_t)m->fwd_since, 1);
        patch(m, m->func_op_start, m->func_ref_start, m->fwd_since, 0);
    }
    f = ROW(m, LLP_FUNCS, fi);
    f[11] = (int32_t)prev_end(m);
    m->cur_func = -1;
    m->cur_block = -1;
    reset_locals(m);
    add_entity(m, 1, fi, start->off, ref_start, 0);
}

/* @g = [linkage...] global|constant|alias|ifunc ... */
static void parse_global(llp_module *m) {
    tok_t name_v = *cur(m), *name = &name_v;
    size_t ref_start = NROWS(m, LLP_REFS);
    adv(m);
    expect(m, T_EQ, NULL);
    int external = 0, as = 0;
    int kind = 0;
    for (;;) {
        tok_t t_v = *cur(m), *t = &t_v;
        if (t->kind != T_KW) fail(m, t->off, "expected 'global', 'constant', 'alias' or 'ifunc'");
        if (t->kw == KW_global || t->kw == KW_constant) { kind = 1; break; }
        if (t->kw == KW_alias) { kind = 2; break; }
        if (t->kw == KW_ifunc) { kind = 3; break; }
        if (t->kw == KW_external || t->kw == KW_extern_weak) external = 1;
        adv(m);
        if (t->kw == KW_addrspace) {
            expect(m, T_LPAREN, NULL);
            as = (int)expect_uint(m, "address space");
            expect(m, T_RPAREN, NULL);
        } else if (at(m, T_LPAREN)) skip_parens(m);
    }
    int is_const = atkw(m, KW_constant);
    adv(m);
    int32_t gi = NROWS(m, LLP_GLOBALS);
    int vk = kind == 1 ? LLP_V_GVAR : kind == 2 ? LLP_V_ALIAS : LLP_V_IFUNC;
    int32_t vid = new_value(m, vk, gi, ptr_type(m, as));
    int32_t *g = row(m, LLP_GLOBALS);
    uint32_t ko, kl;
    name_key(m, name, &ko, &kl);
    g[0] = kind; g[1] = vid; g[2] = (int32_t)ko; g[3] = (int32_t)kl; g[6] = (int32_t)name->off;
    g[10] = is_const; g[11] = as;
    add_ref(m, name, vid);
    define_global(m, name, vid, "global");
    int32_t ty = parse_type(m);
    int32_t init = -1;
    if (kind == 1) {
        if (!external) init = parse_value(m, ty);
    } else {
        expect(m, T_COMMA, NULL);
        /* older syntax: the aliasee constant expression carries no type of its own */
        if (atkw(m, OP_bitcast) || atkw(m, OP_getelementptr) || atkw(m, OP_addrspacecast) || atkw(m, OP_inttoptr))
            init = parse_value(m, ptr_type(m, as));
        else
            init = parse_typed_value(m);
    }
    /* , section "x", comdat($c), align N, partition, code_model, !dbg !1, #attrs, no_sanitize... */
    for (;;) {
        if (at(m, T_COMMA)) {
            tok_t *n1 = peekn(m, 1);
            if (n1->kind == T_METAVAR) { adv(m); adv(m); parse_md(m); continue; }
            adv(m);
            if (atkw(m, KW_comdat)) {
                adv(m);
                if (at(m, T_LPAREN)) { adv(m); expect(m, T_COMDAT, "comdat name"); expect(m, T_RPAREN, NULL); }
                continue;
            }
            if (atkw(m, KW_align)) { adv(m); expect_uint(m, "alignment"); continue; }
            if (at(m, T_KW)) {
                adv(m);
                if (at(m, T_STRING)) adv(m);
                else if (at(m, T_LPAREN)) skip_parens(m);
                continue;
            }
            fail(m, cur(m)->off, "expected global variable attribute");
        }
        if (at(m, T_ATTRGRP)) { adv(m); continue; }
        if (at(m, T_KW) && !is_top_kw(m) && !never_attr(cur(m)->kw)) {
            int kw = cur(m)->kw;
            adv(m);
            if (at(m, T_LPAREN)) skip_parens(m);
            else if (kw == KW_align && at(m, T_INT)) adv(m);
            continue;
        }
        if (at(m, T_STRING) && peekn(m, 1)->kind == T_EQ) { adv(m); adv(m); expect(m, T_STRING, NULL); continue; }
        break;
    }
    g = ROW(m, LLP_GLOBALS, gi);
    g[4] = ty; g[5] = init;
    g[7] = (int32_t)prev_end(m); g[8] = (int32_t)ref_start; g[9] = NROWS(m, LLP_REFS);
    add_entity(m, 2, gi, name->off, ref_start, 0);
}

static void parse_datalayout(llp_module *m, tok_t *s) {
    /* "-A5-": the address space of allocas */
    const char *p = m->src + s->off, *e = p + s->len;
    for (const char *q = p; q + 1 < e; q++) {
        if ((q == p + 1 || q[-1] == '-') && q[0] == 'A' && is_digit((unsigned char)q[1])) {
            int v = 0;
            for (const char *r = q + 1; r < e && is_digit((unsigned char)*r) && v < 1 << 23; r++) v = v * 10 + (*r - '0');
            m->alloca_as = v;
        }
    }
}

static void parse_top(llp_module *m) {
    while (!at(m, T_EOF)) {
        gfwd_close(m);
        tok_t t_v = *cur(m), *t = &t_v;
        size_t ref_start = NROWS(m, LLP_REFS);
        switch (t->kind) {
        case T_GLOBAL:
            parse_global(m);
            continue;
        case T_LOCAL: {   /* %T = type ... */
            adv(m);
            expect(m, T_EQ, NULL);
            expectkw(m, KW_type);
            int32_t nt = named_type(m, t);
            int32_t ni = TY(m, nt)[1];
            int32_t body = -1;
            if (!eatkw(m, KW_opaque)) body = parse_type(m);
            int32_t *nr = ROW(m, LLP_NAMED, ni);
            if (nr[3] >= 0 && body >= 0) fail(m, t->off, "redefinition of type");
            nr[3] = body;
            add_entity(m, 3, ni, t->off, ref_start, 1);
            continue;
        }
        case T_COMDAT:
            adv(m);
            expect(m, T_EQ, NULL);
            expectkw(m, KW_comdat);
            if (!at(m, T_KW)) fail(m, cur(m)->off, "expected comdat type");
            adv(m);
            add_entity(m, 3, -1, t->off, ref_start, 2);
            continue;
        case T_METAVAR:
            adv(m);
            expect(m, T_EQ, NULL);
            eatkw(m, KW_distinct);
            parse_md(m);
            add_entity(m, 3, -1, t->off, ref_start, 3);
            continue;
        case T_SUMMARY:
            adv(m);
            expect(m, T_EQ, NULL);
            expect(m, T_LABEL, "summary entry kind");
            if (at(m, T_LPAREN)) skip_parens(m);
            else adv(m);
            add_entity(m, 3, -1, t->off, ref_start, 4);
            continue;
        case T_KW:
            switch (t->kw) {
            case KW_define: case KW_declare:
                parse_function(m, t->kw == KW_define);
                continue;
            case KW_attributes:
                adv(m);
                expect(m, T_ATTRGRP, "attribute group id");
                expect(m, T_EQ, NULL);
                if (!at(m, T_LBRACE)) fail(m, cur(m)->off, "expected '{' here");
                skip_parens(m);
                add_entity(m, 3, -1, t->off, ref_start, 5);
                continue;
            case KW_target:
                adv(m);
                if (atkw(m, KW_datalayout) || atkw(m, KW_triple)) {
                    int dl = atkw(m, KW_datalayout);
                    adv(m);
                    expect(m, T_EQ, NULL);
                    if (!at(m, T_STRING)) fail(m, cur(m)->off, "expected string constant");
                    if (dl) parse_datalayout(m, cur(m));
                    adv(m);
                    add_entity(m, 3, -1, t->off, ref_start, dl ? 6 : 7);
                    continue;
                }
                fail(m, cur(m)->off, "unknown target property");
            case KW_source_filename:
                adv(m);
                expect(m, T_EQ, NULL);
                expect(m, T_STRING, NULL);
                add_entity(m, 3, -1, t->off, ref_start, 8);
                continue;
            case KW_module:
                adv(m);
                expectkw(m, KW_asm);
                expect(m, T_STRING, NULL);
                add_entity(m, 3, -1, t->off, ref_start, 9);
                continue;
            case KW_deplibs:
                adv(m);
                expect(m, T_EQ, NULL);
                if (!at(m, T_LSQ)) fail(m, cur(m)->off, "expected '[' here");
                skip_parens(m);
                add_entity(m, 3, -1, t->off, ref_start, 10);
                continue;
            case KW_uselistorder:
                adv(m);
                parse_typed_value(m);
                expect(m, T_COMMA, NULL);
                if (!at(m, T_LBRACE)) fail(m, cur(m)->off, "expected '{' here");
                skip_parens(m);
                add_entity(m, 3, -1, t->off, ref_start, 11);
                continue;
            case KW_uselistorder_bb:
                adv(m);
                expect(m, T_GLOBAL, "function name in uselistorder_bb");
                expect(m, T_COMMA, NULL);
                expect(m, T_LOCAL, "basic block name in uselistorder_bb");
                expect(m, T_COMMA, NULL);
                if (!at(m, T_LBRACE)) fail(m, cur(m)->off, "expected '{' here");
                skip_parens(m);
                add_entity(m, 3, -1, t->off, ref_start, 11);
                continue;
            default: break;
            }
            /* fallthrough */
        default:
            fail(m, t->off, "expected top-level entity");
        }
    }
}

/* LLVM 20+ declares a called intrinsic (@llvm.*) that the module never declares */
static void implicit_intrinsics(llp_module *m) {
    int32_t n = NROWS(m, LLP_VALUES);
    for (int32_t i = 0; i < n; i++) {
        int32_t *v = ROW(m, LLP_VALUES, i);
        if (v[0] != LLP_V_FWD || v[1] != -1) continue;
        if (m->keylen[i] < 5 || memcmp(m->src + m->keyoff[i], "llvm.", 5) != 0) continue;
        int32_t fty = -1;
        for (int32_t k = 0; k < NROWS(m, LLP_INSTS); k++) {
            int32_t *r = ROW(m, LLP_INSTS, k);
            if ((r[0] == OP_call || r[0] == OP_invoke || r[0] == OP_callbr) && r[16] == i) { fty = r[11]; break; }
        }
        if (fty < 0 || TY(m, fty)[0] != LLP_T_FUNC) continue;
        int32_t fi = NROWS(m, LLP_FUNCS);
        int32_t vid = new_value(m, LLP_V_FUNC, fi, m->t_ptr);
        int32_t *f = row(m, LLP_FUNCS);
        f[0] = vid; f[1] = (int32_t)m->keyoff[i]; f[2] = (int32_t)m->keylen[i]; f[3] = fty;
        f[4] = NROWS(m, LLP_ARGS); f[5] = 0; f[6] = NROWS(m, LLP_BLOCKS); f[7] = 0; f[8] = 1;
        keyspace(m, vid);
        m->keyoff[vid] = m->keyoff[i];
        m->keylen[vid] = m->keylen[i];
        ROW(m, LLP_VALUES, i)[1] = vid;
    }
}

/* extractvalue results whose aggregate was a named struct defined later */
static void finish_types(llp_module *m) {
    for (int32_t i = 0; i < NROWS(m, LLP_INSTS); i++) {
        int32_t *r = ROW(m, LLP_INSTS, i);
        if (r[2] != -2) continue;
        int32_t t = value_type(m, m->t[LLP_OPERANDS].d[r[4]]);
        for (int32_t k = 0; k < r[11] && t >= 0; k++) t = index_type(m, t, m->t[LLP_INDICES].d[r[16] + k]);
        if (t < 0) fail(m, (size_t)r[7], "invalid indices for extractvalue");
        r = ROW(m, LLP_INSTS, i);
        r[2] = t;
        ROW(m, LLP_VALUES, r[15])[2] = t;
    }
}

/* ------------------------------------------------------------------ API */
API int llparse_abi_version(void) { return LLP_ABI; }

API llp_module *llp_parse(const char *src, size_t len) {
    llp_module *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    kw_init();
    m->src = src;
    m->len = len;
    m->cur_func = -1;
    m->cur_block = -1;
    m->tp = m->tlim = m->toks + KEEP;   /* toks[KEEP - 1] is all zero: prev_end 0 */
    for (int i = 0; i < LLP_NTABLES; i++) m->t[i].w = WIDTHS[i];
    for (int i = 0; i < KW_END; i++) m->kwtype[i] = -1;
    for (int i = 0; i <= 128; i++) m->inttype[i] = -1;
    if (setjmp(m->jb)) {
        return m;
    }
    if (len >= 0x7fffffff) fail(m, 0, "input too large (2 GiB or more)");
    static const struct { int kw, kind, a; } simple[] = {
        {KW_void, LLP_T_VOID, 0}, {KW_half, LLP_T_FP, 0}, {KW_bfloat, LLP_T_FP, 1}, {KW_float, LLP_T_FP, 2},
        {KW_double, LLP_T_FP, 3}, {KW_x86_fp80, LLP_T_FP, 4}, {KW_fp128, LLP_T_FP, 5},
        {KW_ppc_fp128, LLP_T_FP, 6}, {KW_label, LLP_T_LABEL, 0}, {KW_metadata, LLP_T_METADATA, 0},
        {KW_token, LLP_T_TOKEN, 0}, {KW_x86_amx, LLP_T_X86AMX, 0}, {KW_x86_mmx, LLP_T_X86MMX, 0},
        {KW_opaque, LLP_T_OPAQUE, 0},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        m->kwtype[simple[i].kw] = simple_type(m, simple[i].kind, simple[i].a, KW_TEXT[simple[i].kw]);
    m->t_void = m->kwtype[KW_void];
    m->t_label = m->kwtype[KW_label];
    m->t_token = m->kwtype[KW_token];
    m->t_metadata = m->kwtype[KW_metadata];
    m->t_ptr = simple_type(m, LLP_T_PTR, 0, "ptr");
    m->t_i1 = int_type(m, 1);
    m->t_i32 = int_type(m, 32);
    parse_top(m);
    implicit_intrinsics(m);
    check_fwd(m, 0, 0);
    patch(m, 0, 0, 0, 1);
    finish_types(m);
    return m;
}

API void llp_free(llp_module *m) {
    if (!m) return;
    for (int i = 0; i < LLP_NTABLES; i++) mem_free(m, m->t[i].d, &m->t[i].cap, sizeof(int32_t));
    mem_free(m, m->ttext, &m->ttext_cap, 1);
    mem_free(m, m->scr, &m->scr_cap, sizeof(int32_t));
    mem_free(m, m->cscr, &m->cscr_cap, 1);
    free(m->gmap); free(m->lmap); free(m->cmap); free(m->nmap); free(m->tmap);
    mem_free(m, m->gnum, &m->gnum_cap, sizeof(int32_t));
    mem_free(m, m->lnum, &m->lnum_cap, sizeof(int32_t));
    mem_free(m, m->tnum, &m->tnum_cap, sizeof(int32_t));
    mem_free(m, m->keyoff, &m->keyoff_cap, sizeof(uint32_t));
    mem_free(m, m->keylen, &m->keylen_cap, sizeof(uint32_t));
    mem_free(m, m->gfwd, &m->gfwd_cap, sizeof(size_t));
    free(m);
}

API void llp_trim(void) {
#if USE_MAP
    pthread_mutex_lock(&pool_lock);
    while (pool_n > 0) {
        pool_n--;
        munmap(pool[pool_n].p, pool[pool_n].bytes);
    }
    pool_bytes = 0;
    pthread_mutex_unlock(&pool_lock);
#endif
}

API int llp_error(const llp_module *m, size_t *offset, int *line, int *col, const char **msg) {
    if (!m->failed) return 0;
    size_t off = m->err_off, ln = 1, ls = 0;
    for (size_t i = 0; i < off && i < m->len; i++)
        if (m->src[i] == '\n') { ln++; ls = i + 1; }
    *offset = off;
    *line = (int)ln;
    *col = (int)(off - ls + 1);
    *msg = m->err_msg;
    return 1;
}

API int llp_table(const llp_module *m, int which, const int32_t **rows, int *width) {
    if (which < 0 || which >= LLP_NTABLES) { *rows = NULL; *width = 0; return 0; }
    *rows = m->t[which].d;
    *width = m->t[which].w;
    return (int)m->t[which].n;
}

API const char *llp_typetext(const llp_module *m, size_t *len) {
    *len = m->ttext_n;
    return m->ttext;
}

API const char *llp_opcode_name(int op) {
    if (op <= KW_NONE || op >= OP_END) return NULL;
    return KW_TEXT[op];
}

API const char *llp_flag_name(int bit) {
    int kw = FL_nuw + bit;
    if (bit < 0 || kw >= FL_END) return NULL;
    return KW_TEXT[kw];
}
