/* The few TensorFlow Lite C types a delegate touches, declared here because no wheel ships
 * the TFLite C headers.
 *
 * Field order and types follow tensorflow/lite/core/c/common.h as of TF 2.14 and LiteRT
 * 2.2/2.3 (identical there for every struct below; the structs are append-only upstream), in
 * the desktop layout (TF_LITE_STATIC_MEMORY undefined). Only the fields the delegate reads
 * are named; the rest are kept as placeholders of the same type so every offset, and
 * sizeof(TfLiteTensor) (the stride of context->tensors), stays right. The sizes are asserted
 * at compile time below, and tests/export/test_delegate.py runs the delegate in LiteRT 2.3
 * and TensorFlow 2.21: the guard against drift. Pinned with ai-edge-litert==2.3.0.
 */
#ifndef TFLNLU_TFLITE_TYPES_H_
#define TFLNLU_TFLITE_TYPES_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
typedef enum { kTfLiteInt32 = 2, kTfLiteInt8 = 9 } TfLiteType; /* the values this op uses */
enum { kTfLiteBuiltinCustom = 32, kTfLiteBuiltinDelegate = 51 };
enum { kTfLiteDelegateFlagsAllowDynamicTensors = 1 };
enum { kTfLiteMmapRo = 1 }; /* TfLiteAllocationType: a constant of the model file */

typedef struct {
  int size;
  int data[];
} TfLiteIntArray;

typedef union {
  int32_t* i32;
  int8_t* int8;
  void* raw;
} TfLitePtrUnion;

typedef struct {
  float scale;
  int32_t zero_point;
} TfLiteQuantizationParams;

typedef struct {
  int type;
  void* params;
} TfLiteQuantization;

struct TfLiteDelegate;
struct TfLiteContext;

typedef struct {
  int type; /* TfLiteType */
  TfLitePtrUnion data;
  TfLiteIntArray* dims;
  TfLiteQuantizationParams params;
  int allocation_type;
  size_t bytes;
  const void* allocation;
  const char* name;
  struct TfLiteDelegate* delegate;
  int buffer_handle;
  bool data_is_stale;
  bool is_variable;
  TfLiteQuantization quantization;
  void* sparsity;
  const TfLiteIntArray* dims_signature;
} TfLiteTensor;

typedef struct {
  TfLiteIntArray* inputs;
  TfLiteIntArray* outputs;
  TfLiteIntArray* intermediates;
  TfLiteIntArray* temporaries;
  void* user_data;
  void* builtin_data;
  const void* custom_initial_data;
  int custom_initial_data_size;
  struct TfLiteDelegate* delegate;
  bool might_have_side_effect;
} TfLiteNode;

typedef struct TfLiteRegistration {
  void* (*init)(struct TfLiteContext* context, const char* buffer, size_t length);
  void (*free)(struct TfLiteContext* context, void* buffer);
  TfLiteStatus (*prepare)(struct TfLiteContext* context, TfLiteNode* node);
  TfLiteStatus (*invoke)(struct TfLiteContext* context, TfLiteNode* node);
  const char* (*profiling_string)(const struct TfLiteContext* context, const TfLiteNode* node);
  int32_t builtin_code;
  const char* custom_name;
  int version;
  void* registration_external;
  void* async_kernel;
  uint64_t inplace_operator;
} TfLiteRegistration;

typedef struct TfLiteContext {
  size_t tensors_size;
  TfLiteStatus (*GetExecutionPlan)(struct TfLiteContext* context, TfLiteIntArray** execution_plan);
  TfLiteTensor* tensors;
  void* impl_;
  TfLiteStatus (*ResizeTensor)(struct TfLiteContext* context, TfLiteTensor* tensor, TfLiteIntArray* new_size);
  void (*ReportError)(struct TfLiteContext* context, const char* format, ...);
  void* AddTensors;
  TfLiteStatus (*GetNodeAndRegistration)(struct TfLiteContext* context, int node_index, TfLiteNode** node,
                                         TfLiteRegistration** registration);
  TfLiteStatus (*ReplaceNodeSubsetsWithDelegateKernels)(struct TfLiteContext* context,
                                                        TfLiteRegistration registration,
                                                        const TfLiteIntArray* nodes_to_replace,
                                                        struct TfLiteDelegate* delegate);
  /* ... later fields are not used */
} TfLiteContext;

typedef struct TfLiteDelegate {
  void* data_;
  TfLiteStatus (*Prepare)(TfLiteContext* context, struct TfLiteDelegate* delegate);
  void* CopyFromBufferHandle;
  void* CopyToBufferHandle;
  void* FreeBufferHandle;
  int64_t flags;
  void* opaque_delegate_builder; /* NULL: a classic delegate */
} TfLiteDelegate;

typedef struct {
  TfLiteDelegate* delegate;
  TfLiteIntArray* nodes_to_replace;
  TfLiteIntArray* input_tensors;
  TfLiteIntArray* output_tensors;
} TfLiteDelegateParams;

#if defined(__x86_64__) || defined(__aarch64__)
/* The 64-bit layouts of the runtimes this was checked against. */
_Static_assert(sizeof(TfLiteTensor) == 112, "TfLiteTensor layout drifted");
_Static_assert(sizeof(TfLiteNode) == 80, "TfLiteNode layout drifted");
_Static_assert(sizeof(TfLiteRegistration) == 88, "TfLiteRegistration layout drifted");
_Static_assert(sizeof(TfLiteDelegate) == 56, "TfLiteDelegate layout drifted");
_Static_assert(offsetof(TfLiteContext, ReplaceNodeSubsetsWithDelegateKernels) == 64, "TfLiteContext drifted");
#endif

#endif /* TFLNLU_TFLITE_TYPES_H_ */
