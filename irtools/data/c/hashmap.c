/* An open-addressing hash map from strings to 64-bit counts, with FNV-1a hashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *key; uint64_t value; uint32_t hash; } slot_t;
typedef struct { slot_t *slots; size_t cap, len; } map_t;

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) { h ^= (unsigned char)*s; h *= 16777619u; }
  return h;
}

map_t *map_new(size_t cap) {
  map_t *m = malloc(sizeof *m);
  if (!m) return NULL;
  m->cap = cap < 8 ? 8 : cap;
  m->len = 0;
  m->slots = calloc(m->cap, sizeof *m->slots);
  if (!m->slots) { free(m); return NULL; }
  return m;
}

void map_free(map_t *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++) free(m->slots[i].key);
  free(m->slots);
  free(m);
}

static int map_grow(map_t *m);

static slot_t *find_slot(map_t *m, const char *key, uint32_t h) {
  size_t mask = m->cap - 1, i = h & mask;
  while (m->slots[i].key) {
    if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0) return &m->slots[i];
    i = (i + 1) & mask;
  }
  return &m->slots[i];
}

int map_add(map_t *m, const char *key, uint64_t delta) {
  if ((m->len + 1) * 4 > m->cap * 3 && map_grow(m)) return -1;
  uint32_t h = fnv1a(key);
  slot_t *s = find_slot(m, key, h);
  if (!s->key) {
    s->key = strdup(key);
    if (!s->key) return -1;
    s->hash = h;
    m->len++;
  }
  s->value += delta;
  return 0;
}

uint64_t map_get(map_t *m, const char *key) {
  slot_t *s = find_slot(m, key, fnv1a(key));
  return s->key ? s->value : 0;
}

static int map_grow(map_t *m) {
  size_t old_cap = m->cap;
  slot_t *old = m->slots;
  m->slots = calloc(old_cap * 2, sizeof *m->slots);
  if (!m->slots) { m->slots = old; return -1; }
  m->cap = old_cap * 2;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].key) *find_slot(m, old[i].key, old[i].hash) = old[i];
  free(old);
  return 0;
}

size_t count_words(map_t *m, const char *text) {
  char word[64];
  size_t n = 0, k = 0;
  for (const char *p = text;; p++) {
    int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    if (alpha && k + 1 < sizeof word) {
      word[k++] = (char)(*p | 0x20);
    } else if (k) {
      word[k] = 0;
      if (map_add(m, word, 1) == 0) n++;
      k = 0;
    }
    if (!*p) break;
  }
  return n;
}
