/* The fused lookup's kernel alone (unpacking codes, and through the expanded table the delegate
 * builds at prepare) against one GATHER's work on the uncompressed int8 table,
 * in one C harness (no runtime, no call overhead): nanoseconds per lookup of `tokens` ids.
 * Built and run by tools/bench_latency.py (gcc -O2); prints one JSON object.
 * usage: bench_kernel VOCAB DIM GROUPS CODES BITS TOKENS REPEATS */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codebook_lookup.h"

#define ID_SETS 1024 /* utterances of ids, cycled */
#define IDS(r) (ids + (int64_t)((r) % ID_SETS) * tokens)

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* What TFLite's GATHER does for a [V, dim] int8 table: one row copy per id (ids checked). */
static int32_t gather_rows(const int8_t* table, int32_t vocab, int32_t dim, const int32_t* ids, int32_t n, int8_t* out) {
  int32_t i, bad = 0;
  for (i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      ++bad;
      continue;
    }
    memcpy(out + (int64_t)i * dim, table + (int64_t)ids[i] * dim, (size_t)dim);
  }
  return bad;
}

int main(int argc, char** argv) {
  int32_t vocab, dim, groups, codes, bits, tokens, repeats, r, i, sink = 0;
  TflnluLookupShape shape;
  int8_t *table, *packed, *codebook, *out, *expanded;
  int32_t* ids;
  double started, kernel_ns, expanded_ns, gather_ns;
  if (argc != 8) return 2;
  vocab = atoi(argv[1]), dim = atoi(argv[2]), groups = atoi(argv[3]), codes = atoi(argv[4]);
  bits = atoi(argv[5]), tokens = atoi(argv[6]), repeats = atoi(argv[7]);
  shape.vocab_size = vocab, shape.row_bytes = (groups * bits + 7) / 8, shape.bits = bits;
  shape.num_groups = groups, shape.num_codes = codes, shape.sub_dim = dim / groups;
  table = malloc((size_t)vocab * dim), packed = malloc((size_t)vocab * shape.row_bytes);
  codebook = malloc((size_t)groups * codes * shape.sub_dim), out = malloc((size_t)tokens * dim);
  ids = malloc(sizeof(int32_t) * tokens * ID_SETS);
  srand(0);
  for (r = 0; r < ID_SETS; ++r) { /* made before timing: the same ids for every form */
    for (i = 0; i < tokens; ++i) IDS(r)[i] = (int32_t)(((int64_t)r * 7919 + (int64_t)i * 104729) % vocab);
  }
  for (i = 0; i < vocab * dim; ++i) table[i] = (int8_t)(rand() % 256 - 128);
  for (i = 0; i < vocab * shape.row_bytes; ++i) packed[i] = (int8_t)(rand() % 256 - 128);
  for (i = 0; i < groups * codes * shape.sub_dim; ++i) codebook[i] = (int8_t)(rand() % 256 - 128);
  if (codes < (1 << bits)) return 3; /* random bytes: every code must be valid */
  expanded = malloc((size_t)tflnlu_expanded_table_bytes(&shape));
  if (tflnlu_expand_codebook(&shape, codebook, expanded) != 0) return 5;
  started = now_ns();
  for (r = 0; r < repeats; ++r) {
    if (tflnlu_codebook_lookup(&shape, IDS(r), tokens, packed, codebook, out) != 0) return 4; /* a no-op is no benchmark */
    sink += out[r % (tokens * dim)];
  }
  kernel_ns = (now_ns() - started) / repeats;
  started = now_ns();
  for (r = 0; r < repeats; ++r) {
    if (tflnlu_expanded_lookup(&shape, IDS(r), tokens, packed, expanded, out) != 0) return 4;
    sink += out[r % (tokens * dim)];
  }
  expanded_ns = (now_ns() - started) / repeats;
  started = now_ns();
  for (r = 0; r < repeats; ++r) {
    sink += gather_rows(table, vocab, dim, IDS(r), tokens, out) + out[r % (tokens * dim)];
  }
  gather_ns = (now_ns() - started) / repeats;
  printf("{\"kernel_ns\": %.1f, \"expanded_ns\": %.1f, \"expanded_table_bytes\": %lld, \"gather_ns\": %.1f, "
         "\"sink\": %d}\n",
         kernel_ns, expanded_ns, (long long)tflnlu_expanded_table_bytes(&shape), gather_ns, sink);
  return 0;
}
