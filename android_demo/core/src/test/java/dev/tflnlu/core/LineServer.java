package dev.tflnlu.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * What the test helpers that answer Python's property tests share: UTF-8 lines on stdin, each
 * answered by one line on stdout, flushed at once (Python waits for it before the next).
 */
final class LineServer {
  private LineServer() {}

  static BufferedReader stdin() {
    return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
  }

  /** Answer every remaining line of {@code in} with {@code answer} (one JSON value a line). */
  static void serve(BufferedReader in, Function<String, String> answer) throws IOException {
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    String line;
    while ((line = in.readLine()) != null) {
      out.println(answer.apply(line));
      out.flush();
    }
  }
}
