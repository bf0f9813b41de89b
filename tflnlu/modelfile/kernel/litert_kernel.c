/* TFLNLU_CODEBOOK_LOOKUP as a LiteRT 2.3 C API custom-op kernel (desktop and Android).
 *
 * The four callbacks of LiteRtCustomOpKernel around the runtime-free core in
 * codebook_lookup.c. LiteRT ships no C headers, so the few declarations used are written
 * here from docs/litert_c_api_facts.md (LiteRT 2.3.0); tflnlu/runtime/litert_c.py checks the
 * same struct sizes from Python. The LiteRt* functions resolve against libLiteRt.so, which
 * must be loaded (RTLD_GLOBAL) before this library.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codebook_lookup.h"

typedef int LiteRtStatus; /* 0 = ok */
typedef struct LiteRtTensorBufferT* LiteRtTensorBuffer;

typedef struct {
  unsigned int rank : 7;
  unsigned int has_strides : 1;
  int32_t dimensions[8];
  uint32_t strides[8];
} LiteRtLayout;

typedef struct {
  int element_type;
  LiteRtLayout layout;
} LiteRtRankedTensorType;

typedef struct {
  LiteRtStatus (*Init)(void* user_data, const void* init_data, size_t init_data_size);
  LiteRtStatus (*GetOutputLayouts)(void* user_data, size_t num_inputs, const LiteRtLayout* input_layouts,
                                   size_t num_outputs, LiteRtLayout* output_layouts);
  LiteRtStatus (*Run)(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs, size_t num_outputs,
                      LiteRtTensorBuffer* outputs);
  LiteRtStatus (*Destroy)(void* user_data);
} LiteRtCustomOpKernel;

LiteRtStatus LiteRtLockTensorBuffer(LiteRtTensorBuffer buffer, void** host_memory, int lock_mode);
LiteRtStatus LiteRtUnlockTensorBuffer(LiteRtTensorBuffer buffer);
LiteRtStatus LiteRtGetTensorBufferTensorType(LiteRtTensorBuffer buffer, LiteRtRankedTensorType* type);

enum { kOptionsFormat = 1, kLockRead = 0, kLockWrite = 1 };

/* The kernel's own error channel (the runtime ignores statuses), shared by every node. */
typedef struct {
  int32_t bits, num_groups, num_codes;
  int32_t configured;
  int64_t errors; /* failed calls and out-of-range ids or codes, since the last read */
} TflnluKernelState;

static LiteRtStatus kernel_init(void* user_data, const void* data, size_t size) {
  TflnluKernelState* state = (TflnluKernelState*)user_data;
  int32_t values[4];
  if (data == NULL || size != sizeof(values)) {
    state->errors++;
    return 1;
  }
  memcpy(values, data, sizeof(values)); /* little-endian int32 [format, bits, D, K] */
  if (values[0] != kOptionsFormat) {
    state->errors++;
    return 1;
  }
  state->bits = values[1];
  state->num_groups = values[2];
  state->num_codes = values[3];
  state->configured = 1;
  return 0;
}

static LiteRtStatus kernel_layouts(void* user_data, size_t num_inputs, const LiteRtLayout* inputs,
                                   size_t num_outputs, LiteRtLayout* outputs) {
  TflnluKernelState* state = (TflnluKernelState*)user_data;
  unsigned int i, rank;
  if (!state->configured || num_inputs != 3 || num_outputs != 1 || inputs[0].rank + 2 > 8 || inputs[2].rank != 2) {
    state->errors++;
    return 1;
  }
  rank = inputs[0].rank;
  for (i = 0; i < rank; ++i) outputs[0].dimensions[i] = inputs[0].dimensions[i];
  outputs[0].dimensions[rank] = state->num_groups;
  outputs[0].dimensions[rank + 1] = inputs[2].dimensions[1];
  outputs[0].rank = rank + 2;
  outputs[0].has_strides = 0;
  return 0;
}

static int64_t elements(const LiteRtRankedTensorType* type) {
  int64_t n = 1;
  unsigned int i;
  for (i = 0; i < type->layout.rank; ++i) n *= type->layout.dimensions[i];
  return n;
}

static LiteRtStatus kernel_run(void* user_data, size_t num_inputs, const LiteRtTensorBuffer* inputs,
                               size_t num_outputs, LiteRtTensorBuffer* outputs) {
  TflnluKernelState* state = (TflnluKernelState*)user_data;
  LiteRtRankedTensorType ids_type, codes_type, book_type;
  void *ids = NULL, *codes = NULL, *book = NULL, *out = NULL;
  TflnluLookupShape shape;
  int32_t result = -1;
  if (!state->configured || num_inputs != 3 || num_outputs != 1) {
    state->errors++;
    return 1;
  }
  if (LiteRtGetTensorBufferTensorType(inputs[0], &ids_type) || LiteRtGetTensorBufferTensorType(inputs[1], &codes_type) ||
      LiteRtGetTensorBufferTensorType(inputs[2], &book_type) || codes_type.layout.rank != 2 ||
      book_type.layout.rank != 2) {
    state->errors++;
    return 1;
  }
  if (!LiteRtLockTensorBuffer(inputs[0], &ids, kLockRead) && !LiteRtLockTensorBuffer(inputs[1], &codes, kLockRead) &&
      !LiteRtLockTensorBuffer(inputs[2], &book, kLockRead) && !LiteRtLockTensorBuffer(outputs[0], &out, kLockWrite)) {
    shape.vocab_size = codes_type.layout.dimensions[0];
    shape.row_bytes = codes_type.layout.dimensions[1];
    shape.bits = state->bits;
    shape.num_groups = state->num_groups;
    shape.num_codes = state->num_codes;
    shape.sub_dim = book_type.layout.dimensions[1];
    result = tflnlu_codebook_lookup(&shape, (const int32_t*)ids, (int32_t)elements(&ids_type), (const int8_t*)codes,
                                    (const int8_t*)book, (int8_t*)out);
  }
  if (ids) LiteRtUnlockTensorBuffer(inputs[0]);
  if (codes) LiteRtUnlockTensorBuffer(inputs[1]);
  if (book) LiteRtUnlockTensorBuffer(inputs[2]);
  if (out) LiteRtUnlockTensorBuffer(outputs[0]);
  if (result != 0) state->errors += result < 0 ? 1 : result;
  return result == 0 ? 0 : 1;
}

static LiteRtStatus kernel_destroy(void* user_data) {
  (void)user_data;
  return 0;
}

static const LiteRtCustomOpKernel kKernel = {kernel_init, kernel_layouts, kernel_run, kernel_destroy};

/* The callbacks to pass to LiteRtAddCustomOpKernelOption. */
const LiteRtCustomOpKernel* tflnlu_litert_kernel(void) { return &kKernel; }

/* user_data for one compiled model; free it with tflnlu_kernel_state_free after the model. */
TflnluKernelState* tflnlu_kernel_state_new(void) { return (TflnluKernelState*)calloc(1, sizeof(TflnluKernelState)); }
void tflnlu_kernel_state_free(TflnluKernelState* state) { free(state); }

/* Errors since the last call (then reset to 0). */
int64_t tflnlu_kernel_take_errors(TflnluKernelState* state) {
  int64_t errors = state->errors;
  state->errors = 0;
  return errors;
}
