package dev.tflnlu.core;

/**
 * Standard base64 (RFC 4648, with padding) to bytes, strict: java.util.Base64 needs Android
 * API 26 and the demo runs from 24. Anything but the alphabet, or wrong padding, is refused.
 */
final class Base64Decoder {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  private Base64Decoder() {}

  static byte[] decode(String text) {
    if (text.length() % 4 != 0) {
      throw new IllegalArgumentException("base64: length " + text.length() + " is not a multiple of 4");
    }
    int padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
    byte[] out = new byte[text.length() / 4 * 3 - padding];
    int n = 0;
    for (int i = 0; i < text.length(); i += 4) {
      int group = 0;
      for (int j = 0; j < 4; j++) {
        char c = text.charAt(i + j);
        boolean pad = c == '=' && i + 4 == text.length() && j >= 4 - padding;
        int value = pad ? 0 : ALPHABET.indexOf(c);
        if (value < 0) {
          throw new IllegalArgumentException("base64: '" + c + "' at " + (i + j) + " is not base64");
        }
        group = (group << 6) | value;
      }
      for (int j = 0; j < 3 && n < out.length; j++) {
        out[n++] = (byte) (group >>> (16 - 8 * j));
      }
    }
    return out;
  }
}
