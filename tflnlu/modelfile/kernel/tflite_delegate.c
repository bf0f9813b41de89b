/* TFLNLU_CODEBOOK_LOOKUP for the classic TFLite Interpreter: a delegate that claims the op's
 * nodes and runs them with the runtime-free core (codebook_lookup.c).
 *
 * Why a delegate: the classic Interpreter (LiteRT's Python `Interpreter`, TensorFlow's
 * tf.lite.Interpreter, Android's org.tensorflow.lite.Interpreter) accepts delegates, while
 * registering a custom op needs C++ resolver APIs no wheel exports. The delegate reads the
 * tensors straight from the interpreter's arena (no buffer locking, unlike the LiteRT C API
 * kernel), so its per-call cost is the core's.
 *
 * Entry points:
 * - tflite_plugin_create_delegate / tflite_plugin_destroy_delegate: the external-delegate
 *   plugin interface that `load_delegate(path)` calls (no options are needed; any is refused).
 * - tflnlu_delegate_create / tflnlu_delegate_delete: the same for JNI (android_demo).
 * - tflnlu_delegate_take_errors: ids or codes out of range since the last call, over every
 *   delegate of the process (their rows are zeros, and the invocation fails with a message).
 * - tflnlu_delegate_live_tables: expanded tables allocated and not yet freed (tests).
 *
 * Speed: a constant codebook (every tflnlu export) is expanded once, at prepare, into a table of
 * about 256 * d bytes (codebook_lookup.h), so an invocation copies row_bytes entries per id
 * instead of unpacking codes: the custom op then costs what a GATHER of the uncompressed int8
 * table costs. The table is freed with the node; a codebook that is not a constant, or a table
 * over MAX_TABLE_BYTES, runs the unpacking core instead (the same output).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codebook_lookup.h"
#include "tflite_types.h"

#define OP_NAME "TFLNLU_CODEBOOK_LOOKUP"
#define OPTIONS_FORMAT 1
#define MAX_RANK 6
#define MAX_TABLE_BYTES (1 << 20)

#if defined(_WIN32)
#define TFLNLU_EXPORT __declspec(dllexport)
#else
#define TFLNLU_EXPORT __attribute__((visibility("default")))
#endif

static atomic_llong g_errors;
static atomic_llong g_live_tables;

/* One claimed node: its tensors, its options and its expanded table (NULL: none). */
typedef struct {
  int ids, codes, codebook, output;
  int32_t bits, num_groups, num_codes;
  int8_t* table;
  const void* table_source; /* the codebook data the table was built from */
} LookupNode;

/* One delegate kernel: the claimed nodes of one subset, in execution order. */
typedef struct {
  int count;
  LookupNode nodes[];
} LookupKernel;

/* The runtime gives every unresolved custom op version 1, so the version in the file cannot be
 * told apart here: the options' format number (checked in read_node) is the guard. */
static int is_lookup(const TfLiteRegistration* registration) {
  return registration->builtin_code == kTfLiteBuiltinCustom && registration->custom_name != NULL &&
         strcmp(registration->custom_name, OP_NAME) == 0;
}

/* The node's tensors and its 16 option bytes (little-endian int32 [format, bits, D, K]). */
static int read_node(TfLiteContext* context, int node_index, LookupNode* out) {
  TfLiteNode* node;
  TfLiteRegistration* registration;
  int32_t options[4];
  if (context->GetNodeAndRegistration(context, node_index, &node, &registration) != kTfLiteOk) return 0;
  if (node->inputs->size != 3 || node->outputs->size != 1 || node->custom_initial_data == NULL ||
      node->custom_initial_data_size != (int)sizeof(options)) {
    return 0;
  }
  memcpy(options, node->custom_initial_data, sizeof(options));
  if (options[0] != OPTIONS_FORMAT) return 0;
  out->ids = node->inputs->data[0];
  out->codes = node->inputs->data[1];
  out->codebook = node->inputs->data[2];
  out->output = node->outputs->data[0];
  out->bits = options[1];
  out->num_groups = options[2];
  out->num_codes = options[3];
  return 1;
}

static void* kernel_init(TfLiteContext* context, const char* buffer, size_t length) {
  const TfLiteDelegateParams* params = (const TfLiteDelegateParams*)buffer;
  int count = params->nodes_to_replace->size, i;
  LookupKernel* kernel = (LookupKernel*)calloc(1, sizeof(LookupKernel) + (size_t)count * sizeof(LookupNode));
  (void)length;
  if (kernel == NULL) return NULL;
  kernel->count = count;
  for (i = 0; i < count; ++i) {
    if (!read_node(context, params->nodes_to_replace->data[i], &kernel->nodes[i])) {
      context->ReportError(context, OP_NAME ": node %d has bad inputs or options", params->nodes_to_replace->data[i]);
      kernel->count = -1;
    }
  }
  return kernel;
}

static void free_table(LookupNode* node) {
  if (node->table == NULL) return;
  free(node->table);
  node->table = NULL;
  node->table_source = NULL;
  atomic_fetch_sub(&g_live_tables, 1);
}

static void kernel_free(TfLiteContext* context, void* buffer) {
  LookupKernel* kernel = (LookupKernel*)buffer;
  int i;
  (void)context;
  if (kernel == NULL) return;
  for (i = 0; i < kernel->count; ++i) free_table(&kernel->nodes[i]);
  free(kernel);
}

static int tensor_ok(const TfLiteContext* context, int index, int type, int min_rank, int max_rank) {
  const TfLiteTensor* tensor;
  if (index < 0 || (size_t)index >= context->tensors_size) return 0;
  tensor = &context->tensors[index];
  return tensor->type == type && tensor->dims != NULL && tensor->dims->size >= min_rank &&
         tensor->dims->size <= max_rank;
}

/* The options against the constant tensors, in 64-bit arithmetic: bits 8, 4 or 2; 1 <= D <= 256;
 * 1 <= K <= 2^bits; codes [V, ceil(D * bits / 8)]; codebook [D * K, sub_dim]; sizes in bytes. */
static int shape_ok(const TfLiteContext* context, const LookupNode* node) {
  const TfLiteTensor* codes = &context->tensors[node->codes];
  const TfLiteTensor* codebook = &context->tensors[node->codebook];
  const int64_t groups = node->num_groups, num_codes = node->num_codes;
  const int64_t rows = codes->dims->data[0], row_bytes = codes->dims->data[1];
  const int64_t book_rows = codebook->dims->data[0], sub_dim = codebook->dims->data[1];
  if (node->bits != 8 && node->bits != 4 && node->bits != 2) return 0;
  if (groups < 1 || groups > 256 || num_codes < 1 || num_codes > (1 << node->bits)) return 0;
  if (rows < 1 || row_bytes != (groups * node->bits + 7) / 8 || book_rows != groups * num_codes || sub_dim < 1) return 0;
  return (uint64_t)codes->bytes >= (uint64_t)(rows * row_bytes) && (uint64_t)codebook->bytes >= (uint64_t)(book_rows * sub_dim);
}

/* The core's view of a node whose tensors shape_ok accepted. */
static TflnluLookupShape lookup_shape(const TfLiteContext* context, const LookupNode* node) {
  TflnluLookupShape shape;
  shape.vocab_size = context->tensors[node->codes].dims->data[0];
  shape.row_bytes = context->tensors[node->codes].dims->data[1];
  shape.bits = node->bits;
  shape.num_groups = node->num_groups;
  shape.num_codes = node->num_codes;
  shape.sub_dim = context->tensors[node->codebook].dims->data[1];
  return shape;
}

/* The node's table was built from the codebook data the tensor holds now. */
static int table_is_current(const LookupNode* node, const TfLiteTensor* codebook) {
  return node->table != NULL && node->table_source == codebook->data.raw;
}

/* The expanded table of a constant codebook, built once (again only if the data moved). A table
 * that cannot be had (not a constant, too big, no memory) is no error: the core unpacks instead.
 * Its shape passed shape_ok, so expanding it cannot fail. */
static void expand_node(const TfLiteContext* context, LookupNode* node) {
  const TfLiteTensor* codebook = &context->tensors[node->codebook];
  TflnluLookupShape shape;
  int64_t bytes;
  if (table_is_current(node, codebook)) return;
  free_table(node);
  shape = lookup_shape(context, node);
  bytes = tflnlu_expanded_table_bytes(&shape);
  if (codebook->allocation_type != kTfLiteMmapRo || codebook->data.raw == NULL || bytes < 0 || bytes > MAX_TABLE_BYTES) {
    return;
  }
  node->table = (int8_t*)malloc((size_t)bytes);
  if (node->table == NULL) return;
  tflnlu_expand_codebook(&shape, codebook->data.int8, node->table);
  node->table_source = codebook->data.raw;
  atomic_fetch_add(&g_live_tables, 1);
}

/* The output's shape: the ids' shape, then D, then d / D (the codebook's second dimension). */
static TfLiteStatus prepare_node(TfLiteContext* context, LookupNode* node) {
  const TfLiteIntArray* ids;
  TfLiteTensor* output;
  TfLiteIntArray* shape;
  int rank, i, same;
  if (!tensor_ok(context, node->ids, kTfLiteInt32, 0, MAX_RANK - 2) || !tensor_ok(context, node->codes, kTfLiteInt8, 2, 2) ||
      !tensor_ok(context, node->codebook, kTfLiteInt8, 2, 2) || !tensor_ok(context, node->output, kTfLiteInt8, 0, MAX_RANK)) {
    context->ReportError(context, OP_NAME ": unexpected tensor types or ranks (or a TFLite struct layout this delegate "
                                  "was not built for)");
    return kTfLiteError;
  }
  if (!shape_ok(context, node)) {
    context->ReportError(context, OP_NAME ": the op's options do not match its codes and codebook tensors");
    return kTfLiteError;
  }
  expand_node(context, node);
  ids = context->tensors[node->ids].dims;
  output = &context->tensors[node->output];
  rank = ids->size + 2;
  same = output->dims->size == rank;
  for (i = 0; same && i < ids->size; ++i) same = output->dims->data[i] == ids->data[i];
  same = same && output->dims->data[rank - 2] == node->num_groups &&
         output->dims->data[rank - 1] == context->tensors[node->codebook].dims->data[1];
  if (same) return kTfLiteOk;
  shape = (TfLiteIntArray*)malloc(sizeof(TfLiteIntArray) + (size_t)rank * sizeof(int)); /* freed by the runtime */
  if (shape == NULL) return kTfLiteError;
  shape->size = rank;
  for (i = 0; i < ids->size; ++i) shape->data[i] = ids->data[i];
  shape->data[rank - 2] = node->num_groups;
  shape->data[rank - 1] = context->tensors[node->codebook].dims->data[1];
  return context->ResizeTensor(context, output, shape);
}

static TfLiteStatus kernel_prepare(TfLiteContext* context, TfLiteNode* node) {
  LookupKernel* kernel = (LookupKernel*)node->user_data;
  int i;
  if (kernel == NULL || kernel->count < 0) return kTfLiteError;
  for (i = 0; i < kernel->count; ++i) {
    if (prepare_node(context, &kernel->nodes[i]) != kTfLiteOk) return kTfLiteError;
  }
  return kTfLiteOk;
}

static int32_t elements(const TfLiteIntArray* dims) {
  int32_t n = 1;
  int i;
  for (i = 0; i < dims->size; ++i) n *= dims->data[i];
  return n;
}

static TfLiteStatus invoke_node(TfLiteContext* context, const LookupNode* node) {
  const TfLiteTensor* ids = &context->tensors[node->ids];
  const TfLiteTensor* codes = &context->tensors[node->codes];
  const TfLiteTensor* codebook = &context->tensors[node->codebook];
  TfLiteTensor* output = &context->tensors[node->output];
  const TflnluLookupShape shape = lookup_shape(context, node);
  int32_t result, num_ids = elements(ids->dims);
  if ((uint64_t)output->bytes < (uint64_t)num_ids * (uint64_t)node->num_groups * (uint64_t)shape.sub_dim ||
      (uint64_t)codebook->bytes < (uint64_t)node->num_groups * (uint64_t)node->num_codes * (uint64_t)shape.sub_dim ||
      (uint64_t)codes->bytes < (uint64_t)shape.vocab_size * (uint64_t)shape.row_bytes) {
    context->ReportError(context, OP_NAME ": tensor sizes do not match the op's options");
    return kTfLiteError;
  }
  if (table_is_current(node, codebook)) {
    result = tflnlu_expanded_lookup(&shape, ids->data.i32, num_ids, codes->data.int8, node->table, output->data.int8);
  } else {
    result = tflnlu_codebook_lookup(&shape, ids->data.i32, num_ids, codes->data.int8, codebook->data.int8,
                                    output->data.int8);
  }
  if (result == 0) return kTfLiteOk;
  atomic_fetch_add(&g_errors, result < 0 ? 1 : result);
  context->ReportError(context, OP_NAME ": %d ids or codes out of range (their rows are zeros)", (int)result);
  return kTfLiteError;
}

static TfLiteStatus kernel_invoke(TfLiteContext* context, TfLiteNode* node) {
  const LookupKernel* kernel = (const LookupKernel*)node->user_data;
  int i;
  if (kernel == NULL || kernel->count < 0) return kTfLiteError;
  for (i = 0; i < kernel->count; ++i) {
    if (invoke_node(context, &kernel->nodes[i]) != kTfLiteOk) return kTfLiteError;
  }
  return kTfLiteOk;
}

/* Claim every TFLNLU_CODEBOOK_LOOKUP node of the graph. */
static TfLiteStatus delegate_prepare(TfLiteContext* context, TfLiteDelegate* delegate) {
  TfLiteIntArray *plan, *claimed;
  TfLiteRegistration kernel;
  TfLiteStatus status;
  int i;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk) return kTfLiteError;
  claimed = (TfLiteIntArray*)malloc(sizeof(TfLiteIntArray) + (size_t)plan->size * sizeof(int));
  if (claimed == NULL) return kTfLiteError;
  claimed->size = 0;
  for (i = 0; i < plan->size; ++i) {
    TfLiteNode* node;
    TfLiteRegistration* registration;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &registration) == kTfLiteOk &&
        is_lookup(registration)) {
      claimed->data[claimed->size++] = plan->data[i];
    }
  }
  memset(&kernel, 0, sizeof(kernel));
  kernel.init = kernel_init;
  kernel.free = kernel_free;
  kernel.prepare = kernel_prepare;
  kernel.invoke = kernel_invoke;
  kernel.builtin_code = kTfLiteBuiltinDelegate;
  kernel.custom_name = "TflnluDelegate";
  kernel.version = 1;
  status = claimed->size ? context->ReplaceNodeSubsetsWithDelegateKernels(context, kernel, claimed, delegate) : kTfLiteOk;
  free(claimed);
  return status;
}

TFLNLU_EXPORT TfLiteDelegate* tflnlu_delegate_create(void) {
  TfLiteDelegate* delegate = (TfLiteDelegate*)calloc(1, sizeof(TfLiteDelegate));
  if (delegate == NULL) return NULL;
  delegate->Prepare = delegate_prepare;
  delegate->flags = kTfLiteDelegateFlagsAllowDynamicTensors; /* else the op is prepared before delegation */
  return delegate;
}

TFLNLU_EXPORT void tflnlu_delegate_delete(TfLiteDelegate* delegate) { free(delegate); }

TFLNLU_EXPORT int64_t tflnlu_delegate_take_errors(void) { return (int64_t)atomic_exchange(&g_errors, 0); }

TFLNLU_EXPORT int64_t tflnlu_delegate_live_tables(void) { return (int64_t)atomic_load(&g_live_tables); }

TFLNLU_EXPORT TfLiteDelegate* tflite_plugin_create_delegate(const char* const* keys, const char* const* values,
                                                            size_t count, void (*report_error)(const char*)) {
  (void)keys;
  (void)values;
  if ((int)count != 0) { /* Python's load_delegate passes a C int here, not a size_t */
    if (report_error) report_error("the tflnlu delegate takes no options");
    return NULL;
  }
  return tflnlu_delegate_create();
}

TFLNLU_EXPORT void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) { tflnlu_delegate_delete(delegate); }
