package dev.tflnlu.demo;

import org.tensorflow.lite.Delegate;

/**
 * The tflnlu delegate (libtflnlu_delegate.so, built from app/src/main/cpp with the NDK): it
 * runs the fused TFLNLU_CODEBOOK_LOOKUP op of a `tflnlu-export --lookup=custom` file inside
 * LiteRT's Interpreter. Pass it to {@code Interpreter.Options.addDelegate} and close it after
 * the interpreter.
 */
final class TflnluDelegate implements Delegate, AutoCloseable {
  static final String LIBRARY = "tflnlu_delegate";
  private long handle;

  TflnluDelegate() {
    System.loadLibrary(LIBRARY);
    handle = nativeCreate();
    if (handle == 0) {
      throw new IllegalStateException("the tflnlu delegate could not be created");
    }
  }

  /** Whether this build of the app carries the library (built with -PtflnluDelegate). */
  static boolean available() {
    try {
      System.loadLibrary(LIBRARY);
      return true;
    } catch (UnsatisfiedLinkError e) {
      return false;
    }
  }

  @Override
  public long getNativeHandle() {
    return handle;
  }

  /** Ids or codes out of range since the last call (their rows were zeros and the run failed). */
  static long takeErrors() {
    return nativeTakeErrors();
  }

  @Override
  public void close() {
    if (handle != 0) {
      nativeDelete(handle);
      handle = 0;
    }
  }

  private static native long nativeCreate();

  private static native void nativeDelete(long handle);

  private static native long nativeTakeErrors();
}
