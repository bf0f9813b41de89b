package dev.tflnlu.core;

/**
 * Test helper for the Python property test: reads one JSON string a line from stdin and
 * answers each with a JSON array of [token, start, end] for it, one line each.
 */
public final class TokenizerServer {
  private TokenizerServer() {}

  public static void main(String[] args) throws Exception {
    LineServer.serve(LineServer.stdin(), line -> {
      StringBuilder answer = new StringBuilder("[");
      for (Tokenizer.Token token : Tokenizer.tokenize((String) Json.parse(line))) {
        if (answer.length() > 1) {
          answer.append(',');
        }
        answer.append('[').append(Json.quote(token.text)).append(',').append(token.start).append(',').append(token.end).append(']');
      }
      return answer.append(']').toString();
    });
  }
}
