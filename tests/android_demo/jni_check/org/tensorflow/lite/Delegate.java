package org.tensorflow.lite;

/** Test stand-in for LiteRT's interface (no LiteRT jar here): the one method the app uses. */
public interface Delegate {
  long getNativeHandle();
}
