/* TFLNLU_CODEBOOK_LOOKUP: the compute core of the fused codebook-lookup custom op.
 *
 * Plain C99, no runtime dependency: the same file serves the desktop LiteRT kernel, an
 * Android JNI build and a firmware build. It only needs the op's tensors as raw arrays.
 *
 * Semantics (equal to the builtin lowering in tflnlu/layers/embeddings.py, CodebookLookup):
 *   for each id: the row `packed[id]` holds D codes of `bits` bits (8, 4 or 2), packed
 *   lowest bits first into int8 bytes stored as (byte - 128); code c of group g selects
 *   row g*K + c of the int8 codebook [D*K, sub_dim]; the D rows are concatenated.
 * Out-of-range ids and codes produce zero rows and are counted, never read past a buffer:
 * the LiteRT runtime ignores a kernel's status, so the kernel must fail safe.
 */
#ifndef TFLNLU_CODEBOOK_LOOKUP_H_
#define TFLNLU_CODEBOOK_LOOKUP_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t vocab_size;    /* V: rows of `packed` */
  int32_t row_bytes;     /* bytes of one packed row: ceil(D * bits / 8) */
  int32_t bits;          /* 8, 4 or 2 bits per code */
  int32_t num_groups;    /* D */
  int32_t num_codes;     /* K */
  int32_t sub_dim;       /* d / D: values per codebook row */
} TflnluLookupShape;

/* Returns 0, or the number of ids or codes that were out of range (their rows are zeros);
 * D is at most 256.
 * -1 if the shape itself is invalid (nothing is written then). */
int32_t tflnlu_codebook_lookup(const TflnluLookupShape* shape, const int32_t* ids, int32_t num_ids,
                               const int8_t* packed, const int8_t* codebook, int8_t* output);

/* The expanded table: the same lookup with the unpacking done once. For every byte position
 * of a packed row and every one of its 256 values, the codebook rows its codes select (zeros for
 * a code >= K), laid out [row_bytes][256][8 / bits * sub_dim], then a count of the codes >= K of
 * each [row_bytes][256] as uint8. A lookup is then row_bytes copies per id, as fast as a GATHER
 * of the uncompressed table, for about 256 * d bytes of RAM: worth it where the codebook is a
 * constant (the delegate builds it once at prepare), not on a microcontroller.
 * Returns the table's bytes, or -1 for an invalid shape. */
int64_t tflnlu_expanded_table_bytes(const TflnluLookupShape* shape);

/* Writes the table (tflnlu_expanded_table_bytes(shape) bytes) from the int8 codebook
 * [D * K, sub_dim]. Returns 0, or -1 for an invalid shape (nothing written). */
int32_t tflnlu_expand_codebook(const TflnluLookupShape* shape, const int8_t* codebook, int8_t* table);

/* tflnlu_codebook_lookup's output and return value, read from the expanded table. */
int32_t tflnlu_expanded_lookup(const TflnluLookupShape* shape, const int32_t* ids, int32_t num_ids,
                               const int8_t* packed, const int8_t* table, int8_t* output);

#ifdef __cplusplus
}
#endif

#endif /* TFLNLU_CODEBOOK_LOOKUP_H_ */
