/* See codebook_lookup.h. */
#include "codebook_lookup.h"

#include <string.h>

static int32_t valid_shape(const TflnluLookupShape* s) {
  if (s == 0 || s->vocab_size < 1 || s->num_groups < 1 || s->num_codes < 1 || s->sub_dim < 1) return 0;
  if (s->bits != 8 && s->bits != 4 && s->bits != 2) return 0;
  if (s->num_codes > (1 << s->bits)) return 0;
  return s->row_bytes == (s->num_groups * s->bits + 7) / 8;
}

static int32_t code_at(const int8_t* row, int32_t group, int32_t bits) {
  const int32_t per_byte = 8 / bits;
  const int32_t byte = (int32_t)row[group / per_byte] + 128;
  return (byte >> (bits * (group % per_byte))) & ((1 << bits) - 1);
}

int32_t tflnlu_codebook_lookup(const TflnluLookupShape* shape, const int32_t* ids, int32_t num_ids,
                               const int8_t* packed, const int8_t* codebook, int8_t* output) {
  int32_t bad = 0;
  int32_t i, g;
  if (!valid_shape(shape) || num_ids < 0) return -1;
  for (i = 0; i < num_ids; ++i) {
    int8_t* out_row = output + (int64_t)i * shape->num_groups * shape->sub_dim;
    const int32_t id = ids[i];
    if (id < 0 || id >= shape->vocab_size) {
      memset(out_row, 0, (size_t)shape->num_groups * (size_t)shape->sub_dim);
      ++bad;
      continue;
    }
    for (g = 0; g < shape->num_groups; ++g) {
      const int8_t* row = packed + (int64_t)id * shape->row_bytes;
      const int32_t code = code_at(row, g, shape->bits);
      int8_t* out = out_row + g * shape->sub_dim;
      if (code >= shape->num_codes) {
        memset(out, 0, (size_t)shape->sub_dim);
        ++bad;
        continue;
      }
      memcpy(out, codebook + ((int64_t)g * shape->num_codes + code) * shape->sub_dim, (size_t)shape->sub_dim);
    }
  }
  return bad;
}
