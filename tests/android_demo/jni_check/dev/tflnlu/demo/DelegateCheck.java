package dev.tflnlu.demo;

/** Loads libtflnlu_delegate.so through the app's own class and prints what its JNI calls return. */
public final class DelegateCheck {
  private DelegateCheck() {}

  public static void main(String[] args) {
    if (!TflnluDelegate.available()) {
      throw new IllegalStateException("libtflnlu_delegate.so not found on java.library.path");
    }
    try (TflnluDelegate delegate = new TflnluDelegate()) {
      System.out.println("handle " + (delegate.getNativeHandle() != 0 ? "nonzero" : "zero"));
      System.out.println("errors " + TflnluDelegate.takeErrors());
    }
  }
}
