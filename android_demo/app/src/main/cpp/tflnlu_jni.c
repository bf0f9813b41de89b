/* JNI entry points of the tflnlu delegate for Android (dev.tflnlu.demo.TflnluDelegate).
 *
 * The delegate itself is tflnlu/modelfile/kernel/tflite_delegate.c, the same file the
 * desktop runs through load_delegate; LiteRT's Java Interpreter takes it as a native handle
 * (org.tensorflow.lite.Delegate.getNativeHandle) in Interpreter.Options.addDelegate.
 */
#include <jni.h>
#include <stdint.h>

struct TfLiteDelegate;
struct TfLiteDelegate* tflnlu_delegate_create(void);
void tflnlu_delegate_delete(struct TfLiteDelegate* delegate);
int64_t tflnlu_delegate_take_errors(void);

JNIEXPORT jlong JNICALL Java_dev_tflnlu_demo_TflnluDelegate_nativeCreate(JNIEnv* env, jclass type) {
  (void)env;
  (void)type;
  return (jlong)(intptr_t)tflnlu_delegate_create();
}

JNIEXPORT void JNICALL Java_dev_tflnlu_demo_TflnluDelegate_nativeDelete(JNIEnv* env, jclass type, jlong handle) {
  (void)env;
  (void)type;
  tflnlu_delegate_delete((struct TfLiteDelegate*)(intptr_t)handle);
}

JNIEXPORT jlong JNICALL Java_dev_tflnlu_demo_TflnluDelegate_nativeTakeErrors(JNIEnv* env, jclass type) {
  (void)env;
  (void)type;
  return (jlong)tflnlu_delegate_take_errors();
}
