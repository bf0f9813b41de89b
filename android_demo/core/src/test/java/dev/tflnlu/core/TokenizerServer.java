package dev.tflnlu.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Test helper for the Python property test: reads one JSON string a line from stdin and
 * answers each with a JSON array of [token, start, end] for it, one line each.
 */
public final class TokenizerServer {
  private TokenizerServer() {}

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    String line;
    while ((line = in.readLine()) != null) {
      StringBuilder answer = new StringBuilder("[");
      for (Tokenizer.Token token : Tokenizer.tokenize((String) Json.parse(line))) {
        if (answer.length() > 1) {
          answer.append(',');
        }
        answer.append('[').append(Json.quote(token.text)).append(',').append(token.start).append(',').append(token.end).append(']');
      }
      out.println(answer.append(']'));
      out.flush();
    }
  }
}
