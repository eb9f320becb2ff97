/* One-shot int3 breakpoint coverage; the contract is in covtrace.h. */
#define _GNU_SOURCE
#include "covtrace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#define COVTRACE_ABI 3

IRT_LAST_ERROR(covtrace)

int covtrace_abi_version(void) { return COVTRACE_ABI; }

/* ---------------------------------------------------------------- ELF scan (pure, on a file) */

typedef struct {
    const uint8_t *p;
    size_t size;
} blob_t;

static int in_blob(const blob_t *b, uint64_t off, uint64_t len) {
    return off <= b->size && len <= b->size - off;
}

/* Decodes one DWARF pointer of a fixed-size or LEB128 format at `*pos`.  `pc` is the address the
 * encoded value lives at (for pcrel), `data` the eh_frame_hdr address (for datarel). */
static int read_encoded(const blob_t *b, uint64_t *pos, uint8_t enc, uint64_t pc, uint64_t data,
                        uint64_t *out) {
    uint64_t v = 0, off = *pos;
    int64_t s;
    switch (enc & 0x0f) {
    case 0x00: case 0x04: case 0x0c:
        if (!in_blob(b, off, 8)) return -1;
        memcpy(&v, b->p + off, 8); off += 8; break;
    case 0x03:
        { uint32_t t; if (!in_blob(b, off, 4)) return -1; memcpy(&t, b->p + off, 4); v = t; off += 4; break; }
    case 0x0b:
        { int32_t t; if (!in_blob(b, off, 4)) return -1; memcpy(&t, b->p + off, 4); v = (uint64_t)(int64_t)t; off += 4; break; }
    case 0x02:
        { uint16_t t; if (!in_blob(b, off, 2)) return -1; memcpy(&t, b->p + off, 2); v = t; off += 2; break; }
    case 0x0a:
        { int16_t t; if (!in_blob(b, off, 2)) return -1; memcpy(&t, b->p + off, 2); v = (uint64_t)(int64_t)t; off += 2; break; }
    case 0x01: case 0x09: {
        unsigned shift = 0;
        uint8_t byte;
        do {
            if (!in_blob(b, off, 1) || shift > 63) return -1;
            byte = b->p[off++];
            v |= (uint64_t)(byte & 0x7f) << shift;
            shift += 7;
        } while (byte & 0x80);
        if ((enc & 0x0f) == 0x09 && shift < 64 && (byte & 0x40)) v |= ~(uint64_t)0 << shift;
        break;
    }
    default:
        return -1;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += pc; break;
    case 0x30: v += data; break;
    default: return -1;
    }
    s = (int64_t)v;
    (void)s;
    *out = v;
    *pos = off;
    return 0;
}

static int fixed_size(uint8_t enc) {
    switch (enc & 0x0f) {
    case 0x02: case 0x0a: return 2;
    case 0x03: case 0x0b: return 4;
    case 0x00: case 0x04: case 0x0c: return 8;
    default: return 0;
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#define MAX_XSEG 16

static long scan_blob(const blob_t *b, uint64_t *starts, size_t cap, uint64_t *own_end) {
    const Elf64_Ehdr *eh;
    uint64_t xlo[MAX_XSEG], xhi[MAX_XSEG];
    int nx = 0;
    const Elf64_Phdr *hdr_ph = NULL;

    if (!in_blob(b, 0, sizeof(Elf64_Ehdr))) return fail(IRT_EFORMAT, 0, "file too small for an ELF header");
    eh = (const Elf64_Ehdr *)b->p;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) return fail(IRT_EFORMAT, 0, "not an ELF file");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
        return fail(IRT_EFORMAT, 0, "not a little-endian ELF64 x86-64 file");
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || !in_blob(b, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
        return fail(IRT_EFORMAT, 0, "program headers out of bounds");
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(b->p + eh->e_phoff) + i;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && nx < MAX_XSEG) {
            xlo[nx] = ph->p_vaddr;
            xhi[nx] = ph->p_vaddr + ph->p_memsz;
            nx++;
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            hdr_ph = ph;
        }
    }
    if (!hdr_ph) return fail(IRT_EFORMAT, 0, "no PT_GNU_EH_FRAME segment (.eh_frame_hdr)");
    if (!in_blob(b, hdr_ph->p_offset, hdr_ph->p_filesz) || hdr_ph->p_filesz < 4)
        return fail(IRT_EFORMAT, 0, ".eh_frame_hdr out of bounds");

    /* Bound the table reads to the segment itself. */
    blob_t hb = {b->p + hdr_ph->p_offset, hdr_ph->p_filesz};
    uint64_t hv = hdr_ph->p_vaddr, pos = 4, eh_frame_ptr, fde_count;
    uint8_t version = hb.p[0], ptr_enc = hb.p[1], cnt_enc = hb.p[2], tab_enc = hb.p[3];
    if (version != 1) return fail(IRT_EFORMAT, 0, ".eh_frame_hdr version %u, expected 1", version);
    if (ptr_enc != 0xff && read_encoded(&hb, &pos, ptr_enc, hv + pos, hv, &eh_frame_ptr) < 0)
        return fail(IRT_EFORMAT, 0, "bad eh_frame_ptr encoding 0x%02x", ptr_enc);
    if (cnt_enc == 0xff || read_encoded(&hb, &pos, cnt_enc, hv + pos, hv, &fde_count) < 0)
        return fail(IRT_EFORMAT, 0, "no FDE count in .eh_frame_hdr (encoding 0x%02x)", cnt_enc);
    int fs = fixed_size(tab_enc);
    if (tab_enc == 0xff || fs == 0) return fail(IRT_EFORMAT, 0, "no binary search table (encoding 0x%02x)", tab_enc);
    if (fde_count > (hb.size - pos) / (2u * (unsigned)fs))
        return fail(IRT_EFORMAT, 0, "FDE count %llu exceeds .eh_frame_hdr", (unsigned long long)fde_count);

    long n = 0;
    uint64_t prev = 0;
    int sorted = 1;
    for (uint64_t i = 0; i < fde_count; i++) {
        uint64_t loc, fde;
        if (read_encoded(&hb, &pos, tab_enc, hv + pos, hv, &loc) < 0 ||
            read_encoded(&hb, &pos, tab_enc, hv + pos, hv, &fde) < 0)
            return fail(IRT_EFORMAT, 0, "truncated search table entry %llu", (unsigned long long)i);
        int ok = 0;
        for (int k = 0; k < nx; k++) ok |= loc >= xlo[k] && loc < xhi[k];
        if (!ok || (n > 0 && loc == prev)) continue;
        if (n > 0 && loc < prev) sorted = 0;
        if ((size_t)n < cap) starts[n] = loc;
        prev = loc;
        n++;
    }
    if (starts && (size_t)n <= cap && !sorted) {
        qsort(starts, (size_t)n, sizeof *starts, cmp_u64);
        long m = 0;
        for (long i = 0; i < n; i++)
            if (m == 0 || starts[m - 1] != starts[i]) starts[m++] = starts[i];
        n = m;
    }

    if (own_end) {
        *own_end = 0;
        if (eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shnum > 0 &&
            in_blob(b, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))) {
            for (int i = 0; i < eh->e_shnum; i++) {
                const Elf64_Shdr *sh = (const Elf64_Shdr *)(b->p + eh->e_shoff) + i;
                if (sh->sh_type != SHT_DYNSYM || sh->sh_entsize != sizeof(Elf64_Sym) ||
                    !in_blob(b, sh->sh_offset, sh->sh_size))
                    continue;
                const Elf64_Sym *sym = (const Elf64_Sym *)(b->p + sh->sh_offset);
                for (uint64_t j = 0; j < sh->sh_size / sizeof(Elf64_Sym); j++) {
                    if (ELF64_ST_TYPE(sym[j].st_info) != STT_FUNC || sym[j].st_shndx == SHN_UNDEF) continue;
                    uint64_t end = sym[j].st_value + sym[j].st_size;
                    if (end > *own_end) *own_end = end;
                }
            }
        }
    }
    return n;
}

long covtrace_scan(const char *path, uint64_t *starts, size_t cap, uint64_t *own_end) {
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(IRT_EIO, errno, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        close(fd);
        return fail(IRT_EIO, 0, "cannot stat %s or it is empty", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return fail(IRT_EIO, errno, "cannot map %s: %s", path, strerror(errno));
    blob_t b = {p, (size_t)st.st_size};
    long n = scan_blob(&b, starts, starts ? cap : 0, own_end);
    munmap(p, (size_t)st.st_size);
    return n;
}

struct base_query {
    const char *needle;
    uint64_t base;
    char *path;
    size_t cap;
    int found;
};

static int base_cb(struct dl_phdr_info *info, size_t size, void *data) {
    struct base_query *q = data;
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, q->needle)) {
        q->base = info->dlpi_addr;
        if (q->path && q->cap) {
            strncpy(q->path, info->dlpi_name, q->cap - 1);
            q->path[q->cap - 1] = 0;
        }
        q->found = 1;
        return 1;
    }
    return 0;
}

int covtrace_module_base(const char *name_substr, uint64_t *base, char *path_out, size_t path_cap) {
    struct base_query q = {name_substr, 0, path_out, path_cap, 0};
    dl_iterate_phdr(base_cb, &q);
    if (!q.found) return fail(IRT_ENOTFOUND, 0, "no loaded object whose path contains %s", name_substr);
    *base = q.base;
    return IRT_OK;
}

/* ---------------------------------------------------------------- tracer (process state) */

static uint8_t *g_bitmap;       /* MAP_SHARED: one byte per site, seen by every process */
static size_t g_bitmap_len;
static uint64_t *g_counters;    /* MAP_SHARED anonymous: [new TVM sites, new LLVM sites, current class] of this
                                 * server's family */
static uint8_t *g_classes;      /* MAP_SHARED: per site, the OR of the classes that were current at its hits */
static uint8_t g_track;         /* the class every seen site is re-armed for until it has it (0: none) */
#define CLASS_SLOT 2
static uint64_t *g_sites;       /* runtime addresses, sorted */
static uint8_t *g_orig;         /* original first byte of each site */
static uint8_t *g_armed;        /* this process's image still holds 0xCC there */
static size_t g_n, g_split;
static struct sigaction g_old_trap;
static int g_handler_on;
static void *g_altstack;

static long find_site(uint64_t pc) {
    size_t lo = 0, hi = g_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_sites[mid] < pc) lo = mid + 1;
        else hi = mid;
    }
    return (lo < g_n && g_sites[lo] == pc) ? (long)lo : -1;
}

/* Runs on whatever thread hit the site, maybe on the alternate stack after a deep recursion: it
 * touches only memory allocated at arm time and makes no library call but sigaction/raise. */
static void on_trap(int sig, siginfo_t *si, void *vctx) {
    ucontext_t *uc = vctx;
    uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP] - 1;
    long i = g_sites ? find_site(pc) : -1;
    (void)si;
    if (i < 0) {
        /* Not ours: a genuine trap keeps its meaning. */
        sigaction(SIGTRAP, &g_old_trap, NULL);
        raise(sig);
        return;
    }
    if (*(volatile uint8_t *)pc != 0xCC) {
        /* The text is shared: another process or thread restored this site between our fetch of
         * 0xCC and now.  Run the original instruction. */
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
        return;
    }
    *(volatile uint8_t *)pc = g_orig[i];
    g_armed[i] = 0;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
    if (g_classes && g_counters && (size_t)i < g_bitmap_len)
        __atomic_fetch_or(&g_classes[i], (uint8_t)__atomic_load_n(&g_counters[CLASS_SLOT], __ATOMIC_RELAXED),
                          __ATOMIC_RELAXED);
    if ((size_t)i < g_bitmap_len && __atomic_exchange_n(&g_bitmap[i], 1, __ATOMIC_RELAXED) == 0 && g_counters)
        __atomic_fetch_add(&g_counters[(size_t)i < g_split ? 0 : 1], 1, __ATOMIC_RELAXED);
}

/* One byte per site, MAP_SHARED: from a file when `path` is given, else anonymous (shared with
 * children forked later). */
static int map_sites(const char *path, size_t nsites, uint8_t **out) {
    void *p;
    if (path) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        struct stat st;
        if (fd < 0) return fail(IRT_EIO, errno, "cannot open bitmap %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0 || ((size_t)st.st_size < nsites && ftruncate(fd, (off_t)nsites) < 0)) {
            close(fd);
            return fail(IRT_EIO, errno, "cannot size bitmap %s: %s", path, strerror(errno));
        }
        p = mmap(NULL, nsites, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
    } else {
        p = mmap(NULL, nsites, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    }
    if (p == MAP_FAILED) return fail(IRT_EIO, errno, "cannot map bitmap: %s", strerror(errno));
    *out = p;
    return IRT_OK;
}

int covtrace_open_bitmap(const char *path, size_t nsites) {
    if (g_bitmap) return fail(IRT_ESTATE, 0, "bitmap already open");
    if (nsites == 0) return fail(IRT_ESTATE, 0, "bitmap needs at least one site");
    int rc = map_sites(path, nsites, &g_bitmap);
    if (rc == IRT_OK) g_bitmap_len = nsites;
    return rc;
}

int covtrace_open_classes(const char *path, uint8_t track) {
    if (!g_bitmap) return fail(IRT_ESTATE, 0, "covtrace_open_bitmap() must come first");
    if (g_classes) return fail(IRT_ESTATE, 0, "class map already open");
    int rc = map_sites(path, g_bitmap_len, &g_classes);
    if (rc == IRT_OK) g_track = track;
    return rc;
}

void covtrace_set_class(uint8_t cls) {
    if (g_counters) __atomic_store_n(&g_counters[CLASS_SLOT], cls, __ATOMIC_RELAXED);
}

uint8_t *covtrace_classes(void) { return g_classes; }

static void free_sites(void) {
    free(g_sites); free(g_orig); free(g_armed);
    g_sites = NULL; g_orig = g_armed = NULL; g_n = 0;
}

/* Replace every executable mapping that holds a site by a MAP_SHARED memfd copy of itself.  A
 * privately patched text would become hundreds of MB of dirty anonymous pages whose page tables
 * every fork copies (about 60 ms per fork for TVM); a shared mapping is not copied at fork, and a
 * site a child restores is restored for the fork server and all its later children at once. */
#define MAX_TEXT_MAPS 64
static int share_text(void) {
    uint64_t lo[MAX_TEXT_MAPS], hi[MAX_TEXT_MAPS];
    int nm = 0;
    char line[4096];
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return fail(IRT_ESYS, errno, "cannot read /proc/self/maps: %s", strerror(errno));
    while (fgets(line, sizeof line, f) && nm < MAX_TEXT_MAPS) {
        unsigned long long a, b;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) != 3 || perms[2] != 'x') continue;
        size_t k = 0, h = g_n;
        while (k < h) { /* first site >= a */
            size_t mid = k + (h - k) / 2;
            if (g_sites[mid] < a) k = mid + 1;
            else h = mid;
        }
        if (k < g_n && g_sites[k] < b && perms[3] == 'p') {
            lo[nm] = a;
            hi[nm] = b;
            nm++;
        }
    }
    fclose(f);
    for (int m = 0; m < nm; m++) {
        size_t len = (size_t)(hi[m] - lo[m]);
        int fd = memfd_create("covtrace-text", MFD_CLOEXEC);
        if (fd < 0) return fail(IRT_ESYS, errno, "memfd_create: %s", strerror(errno));
        if (ftruncate(fd, (off_t)len) < 0) {
            close(fd);
            return fail(IRT_ESYS, errno, "ftruncate text copy: %s", strerror(errno));
        }
        void *copy = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, fd, 0);
        close(fd);
        if (copy == MAP_FAILED) return fail(IRT_ESYS, errno, "mmap text copy: %s", strerror(errno));
        memcpy(copy, (const void *)lo[m], len);
        /* mremap onto the old range replaces it in one step; on failure the original stays */
        if (mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)lo[m]) == MAP_FAILED) {
            int e = errno;
            munmap(copy, len);
            return fail(IRT_ESYS, e, "mremap text %#llx: %s", (unsigned long long)lo[m], strerror(e));
        }
    }
    return IRT_OK;
}

/* Make [lo, hi) writable page group by page group, so a gap between executable segments is
 * never passed to mprotect. */
static int protect_sites(int prot) {
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t mask = ~(uint64_t)(pg - 1);
    size_t i = 0;
    while (i < g_n) {
        uint64_t start = g_sites[i] & mask, end = (g_sites[i] & mask) + (uint64_t)pg;
        size_t j = i + 1;
        while (j < g_n && (g_sites[j] & mask) <= end) {
            end = (g_sites[j] & mask) + (uint64_t)pg;
            j++;
        }
        /* an instruction byte never crosses into the next page, so `end` covers every site */
        if (mprotect((void *)start, end - start, prot) < 0)
            return fail(IRT_ESYS, errno, "mprotect %#llx..%#llx: %s", (unsigned long long)start,
                        (unsigned long long)end, strerror(errno));
        i = j;
    }
    return IRT_OK;
}

int covtrace_arm(uint64_t base, const uint64_t *vaddrs, size_t n, size_t split) {
    if (!g_bitmap) return fail(IRT_ESTATE, 0, "covtrace_open_bitmap() must come first");
    if (g_sites) return fail(IRT_ESTATE, 0, "already armed");
    if (n == 0 || n > g_bitmap_len) return fail(IRT_ESTATE, 0, "%zu sites for a bitmap of %zu", n, g_bitmap_len);
    g_sites = malloc(n * sizeof *g_sites);
    g_orig = malloc(n);
    g_armed = calloc(n, 1);
    if (!g_counters) {
        void *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        g_counters = c == MAP_FAILED ? NULL : c;
    }
    if (!g_altstack) g_altstack = malloc(1 << 16);
    if (!g_sites || !g_orig || !g_armed || !g_counters || !g_altstack) {
        free_sites();
        return fail(IRT_ENOMEM, 0, "out of memory for %zu sites", n);
    }
    for (size_t i = 0; i < n; i++) {
        g_sites[i] = base + vaddrs[i];
        if (i && g_sites[i] <= g_sites[i - 1]) {
            free_sites();
            return fail(IRT_ESTATE, 0, "sites must be sorted and unique (index %zu)", i);
        }
    }
    g_n = n;
    g_split = split;
    int rc = share_text();
    if (rc == 0) rc = protect_sites(PROT_READ | PROT_WRITE | PROT_EXEC);
    if (rc < 0) {
        free_sites();
        return rc;
    }
    for (size_t i = 0; i < n; i++) g_orig[i] = *(volatile uint8_t *)g_sites[i];

    stack_t ss = {.ss_sp = g_altstack, .ss_size = 1 << 16, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTRAP, &sa, &g_old_trap) < 0) {
        free_sites();
        return fail(IRT_ESYS, errno, "sigaction(SIGTRAP): %s", strerror(errno));
    }
    g_handler_on = 1;
    long armed = 0;
    for (size_t i = 0; i < n; i++) {
        if (g_bitmap[i] || g_orig[i] == 0xCC) continue;
        *(volatile uint8_t *)g_sites[i] = 0xCC;
        g_armed[i] = 1;
        armed++;
    }
    __builtin___clear_cache((char *)g_sites[0], (char *)g_sites[n - 1] + 1);
    return (int)(armed > 0x7fffffff ? 0x7fffffff : armed);
}

/* A seen site still waiting for the tracked class (see covtrace_rearm). */
static inline int pending(size_t i) {
    return g_track && g_classes && !(g_classes[i] & g_track);
}

long covtrace_sync(void) {
    long patched = 0;
    if (!g_sites) return fail(IRT_ESTATE, 0, "not armed");
    for (size_t i = 0; i < g_n; i++) {
        if (g_armed[i] && g_bitmap[i] && !pending(i)) {
            *(volatile uint8_t *)g_sites[i] = g_orig[i];
            g_armed[i] = 0;
            patched++;
        }
    }
    return patched;
}

long covtrace_rearm(void) {
    long n = 0;
    if (!g_sites) return fail(IRT_ESTATE, 0, "not armed");
    for (size_t i = 0; i < g_n; i++) {
        if (!g_bitmap[i] || !pending(i) || g_orig[i] == 0xCC) continue;
        if (*(volatile uint8_t *)g_sites[i] != 0xCC) {
            *(volatile uint8_t *)g_sites[i] = 0xCC;
            n++;
        }
        g_armed[i] = 1;
    }
    if (n) __builtin___clear_cache((char *)g_sites[0], (char *)g_sites[g_n - 1] + 1);
    return n;
}

long covtrace_count_class(uint8_t mask, size_t lo, size_t hi) {
    long n = 0;
    if (!g_classes) return fail(IRT_ESTATE, 0, "class map not open");
    if (hi > g_bitmap_len) hi = g_bitmap_len;
    for (size_t i = lo; i < hi; i++) n += (g_classes[i] & mask) != 0;
    return n;
}

int covtrace_disarm(void) {
    if (!g_sites) return IRT_OK;
    for (size_t i = 0; i < g_n; i++)
        if (g_armed[i]) *(volatile uint8_t *)g_sites[i] = g_orig[i];
    int rc = protect_sites(PROT_READ | PROT_EXEC);
    if (g_handler_on) sigaction(SIGTRAP, &g_old_trap, NULL);
    g_handler_on = 0;
    free_sites();
    return rc;
}

uint8_t *covtrace_bitmap(void) { return g_bitmap; }
size_t covtrace_nsites(void) { return g_bitmap_len; }

long covtrace_armed(void) {
    long n = 0;
    for (size_t i = 0; i < g_n; i++) n += g_armed[i];
    return n;
}

void covtrace_reset_counters(void) {
    if (g_counters) {
        __atomic_store_n(&g_counters[0], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&g_counters[1], 0, __ATOMIC_RELAXED);
    }
}

void covtrace_counters(uint64_t *out) {
    out[0] = g_counters ? __atomic_load_n(&g_counters[0], __ATOMIC_RELAXED) : 0;
    out[1] = g_counters ? __atomic_load_n(&g_counters[1], __ATOMIC_RELAXED) : 0;
}

long covtrace_count_seen(size_t lo, size_t hi) {
    long n = 0;
    if (!g_bitmap) return fail(IRT_ESTATE, 0, "bitmap not open");
    if (hi > g_bitmap_len) hi = g_bitmap_len;
    for (size_t i = lo; i < hi; i++) n += g_bitmap[i] != 0;
    return n;
}
