/* See codebook_lookup.h. */
#include "codebook_lookup.h"

#include <string.h>

static int32_t valid_shape(const TflnluLookupShape* s) {
  if (s == 0 || s->vocab_size < 1 || s->num_groups < 1 || s->num_groups > 256 || s->num_codes < 1 || s->sub_dim < 1) {
    return 0;
  }
  if (s->bits != 8 && s->bits != 4 && s->bits != 2) return 0;
  if (s->num_codes > (1 << s->bits)) return 0;
  return s->row_bytes == (s->num_groups * s->bits + 7) / 8;
}

/* A codebook row (or an expanded-table entry) into the output: the copy's size is a constant in
 * the common cases, so the compiler turns it into a few moves instead of a memcpy call. */
static void copy_fixed(int8_t* out, const int8_t* source, int64_t bytes) {
  switch (bytes) {
    case 4:
      memcpy(out, source, 4);
      break;
    case 8:
      memcpy(out, source, 8);
      break;
    case 16:
      memcpy(out, source, 16);
      break;
    case 32:
      memcpy(out, source, 32);
      break;
    default:
      memcpy(out, source, (size_t)bytes);
  }
}

/* The D codes of one packed row, unpacked (lowest bits first, bytes stored as byte - 128).
 * One loop per code width, so the shifts are constants the compiler unrolls. */
static void unpack_row(const int8_t* row, const TflnluLookupShape* s, int32_t* codes) {
  int32_t g, b;
  const int32_t whole = s->num_groups / (8 / s->bits); /* bytes holding a full set of codes */
  switch (s->bits) {
    case 8:
      for (g = 0; g < s->num_groups; ++g) codes[g] = (int32_t)row[g] + 128;
      return;
    case 4:
      for (b = 0; b < whole; ++b) {
        const int32_t byte = (int32_t)row[b] + 128;
        codes[2 * b] = byte & 15;
        codes[2 * b + 1] = byte >> 4;
      }
      break;
    default: /* 2 */
      for (b = 0; b < whole; ++b) {
        const int32_t byte = (int32_t)row[b] + 128;
        codes[4 * b] = byte & 3;
        codes[4 * b + 1] = (byte >> 2) & 3;
        codes[4 * b + 2] = (byte >> 4) & 3;
        codes[4 * b + 3] = byte >> 6;
      }
  }
  for (g = whole * (8 / s->bits); g < s->num_groups; ++g) { /* the last, partly filled byte */
    const int32_t byte = (int32_t)row[g / (8 / s->bits)] + 128;
    codes[g] = (byte >> (s->bits * (g % (8 / s->bits)))) & ((1 << s->bits) - 1);
  }
}

int32_t tflnlu_codebook_lookup(const TflnluLookupShape* shape, const int32_t* ids, int32_t num_ids,
                               const int8_t* packed, const int8_t* codebook, int8_t* output) {
  int32_t codes[256]; /* D <= 256: checked in valid_shape */
  int64_t width;
  int32_t bad = 0;
  int32_t i, g;
  if (!valid_shape(shape) || num_ids < 0) return -1;
  width = (int64_t)shape->num_groups * shape->sub_dim;
  for (i = 0; i < num_ids; ++i) {
    int8_t* out_row = output + (int64_t)i * width;
    const int32_t id = ids[i];
    if (id < 0 || id >= shape->vocab_size) {
      memset(out_row, 0, (size_t)width);
      ++bad;
      continue;
    }
    unpack_row(packed + (int64_t)id * shape->row_bytes, shape, codes);
    for (g = 0; g < shape->num_groups; ++g) {
      int8_t* out = out_row + g * shape->sub_dim;
      if (codes[g] >= shape->num_codes) {
        memset(out, 0, (size_t)shape->sub_dim);
        ++bad;
        continue;
      }
      copy_fixed(out, codebook + ((int64_t)g * shape->num_codes + codes[g]) * shape->sub_dim, shape->sub_dim);
    }
  }
  return bad;
}

/* The expanded table (see codebook_lookup.h): one entry per (byte position, byte value). */
static int32_t codes_per_byte(const TflnluLookupShape* s) { return 8 / s->bits; }

static int64_t entry_bytes(const TflnluLookupShape* s) { return (int64_t)codes_per_byte(s) * s->sub_dim; }

/* The entries come first, [row_bytes][256][entry_bytes]; a uint8 count each follows them. */
static int64_t entries_bytes(const TflnluLookupShape* s) { return (int64_t)s->row_bytes * 256 * entry_bytes(s); }

int64_t tflnlu_expanded_table_bytes(const TflnluLookupShape* shape) {
  if (!valid_shape(shape)) return -1;
  return entries_bytes(shape) + (int64_t)shape->row_bytes * 256;
}

int32_t tflnlu_expand_codebook(const TflnluLookupShape* shape, const int8_t* codebook, int8_t* table) {
  const int32_t per_byte = codes_per_byte(shape), mask = (1 << shape->bits) - 1;
  int64_t span;
  uint8_t* counts;
  int32_t b, v, j;
  if (!valid_shape(shape)) return -1;
  span = entry_bytes(shape);
  counts = (uint8_t*)(table + entries_bytes(shape));
  memset(table, 0, (size_t)tflnlu_expanded_table_bytes(shape));
  for (b = 0; b < shape->row_bytes; ++b) {
    for (v = 0; v < 256; ++v) {
      int8_t* entry = table + ((int64_t)b * 256 + v) * span;
      for (j = 0; j < per_byte && b * per_byte + j < shape->num_groups; ++j) {
        const int32_t group = b * per_byte + j, code = (v >> (shape->bits * j)) & mask;
        if (code >= shape->num_codes) {
          ++counts[b * 256 + v]; /* its rows stay zeros */
          continue;
        }
        memcpy(entry + j * shape->sub_dim, codebook + ((int64_t)group * shape->num_codes + code) * shape->sub_dim,
               (size_t)shape->sub_dim);
      }
    }
  }
  return 0;
}

#define COPY_ENTRIES(bytes)                                                                    \
  for (b = 0; b < row_bytes; ++b) memcpy(out_row + b * (bytes), table + ((int64_t)b * 256 + row[b] + 128) * (bytes), \
                                         (size_t)(bytes))

/* One packed row's entries, with the entry size a constant in the loop in the common cases. */
static void copy_entries(int8_t* out_row, const int8_t* row, const int8_t* table, int32_t row_bytes, int64_t span) {
  int32_t b;
  switch (span) {
    case 8:
      COPY_ENTRIES(8);
      break;
    case 16:
      COPY_ENTRIES(16);
      break;
    case 32:
      COPY_ENTRIES(32);
      break;
    default:
      COPY_ENTRIES(span);
  }
}
#undef COPY_ENTRIES

int32_t tflnlu_expanded_lookup(const TflnluLookupShape* shape, const int32_t* ids, int32_t num_ids,
                               const int8_t* packed, const int8_t* table, int8_t* output) {
  int64_t span, width, last;
  const uint8_t* counts;
  int32_t bad = 0, check_codes, i, b;
  if (!valid_shape(shape) || num_ids < 0) return -1;
  span = entry_bytes(shape);
  width = (int64_t)shape->num_groups * shape->sub_dim;
  last = width - (int64_t)(shape->row_bytes - 1) * span; /* the last byte may hold fewer codes */
  counts = (const uint8_t*)(table + entries_bytes(shape));
  check_codes = shape->num_codes < (1 << shape->bits);
  for (i = 0; i < num_ids; ++i) {
    int8_t* out_row = output + (int64_t)i * width;
    const int32_t id = ids[i];
    const int8_t* row;
    if (id < 0 || id >= shape->vocab_size) {
      memset(out_row, 0, (size_t)width);
      ++bad;
      continue;
    }
    row = packed + (int64_t)id * shape->row_bytes;
    if (last == span && !check_codes) { /* every byte full, every code valid: the common case */
      copy_entries(out_row, row, table, shape->row_bytes, span);
      continue;
    }
    for (b = 0; b < shape->row_bytes - 1; ++b) {
      const int32_t value = (int32_t)row[b] + 128;
      copy_fixed(out_row + b * span, table + ((int64_t)b * 256 + value) * span, span);
      if (check_codes) bad += counts[b * 256 + value];
    }
    {
      const int32_t value = (int32_t)row[b] + 128;
      memcpy(out_row + b * span, table + ((int64_t)b * 256 + value) * span, (size_t)last);
      if (check_codes) bad += counts[b * 256 + value];
    }
  }
  return bad;
}
