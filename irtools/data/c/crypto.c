/* Bit-twiddling kernels: CRC-32, SipHash-2-4 style mixing, popcount, byte swaps. */
#include <stddef.h>
#include <stdint.h>

static uint32_t crc_table[256];

void crc32_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sipround(uint64_t v[4]) {
  v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
  v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
  v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
  v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

uint64_t siphash(const uint8_t *in, size_t len, uint64_t k0, uint64_t k1) {
  uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
                   k1 ^ 0x7465646279746573ULL};
  uint64_t b = (uint64_t)len << 56;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t m = 0;
    for (int j = 0; j < 8; j++) m |= (uint64_t)in[i + j] << (8 * j);
    v[3] ^= m; sipround(v); sipround(v); v[0] ^= m;
  }
  for (int j = 0; i + j < len; j++) b |= (uint64_t)in[i + j] << (8 * j);
  v[3] ^= b; sipround(v); sipround(v); v[0] ^= b;
  v[2] ^= 0xff;
  for (int r = 0; r < 4; r++) sipround(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

unsigned popcount_array(const uint64_t *w, size_t n) {
  unsigned total = 0;
  for (size_t i = 0; i < n; i++) total += (unsigned)__builtin_popcountll(w[i]);
  return total;
}

void bswap_all(uint32_t *w, size_t n) {
  for (size_t i = 0; i < n; i++) w[i] = __builtin_bswap32(w[i]);
}

uint64_t read_tsc_or_zero(void) {
#if defined(__x86_64__)
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
#else
  return 0;
#endif
}
