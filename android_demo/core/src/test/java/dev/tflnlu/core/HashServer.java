package dev.tflnlu.core;

import java.io.BufferedReader;
import java.util.Map;

/**
 * Test helper for the Python property test of the hashed vocabulary: the first line is a stored
 * hashed vocabulary (JSON object); every further line a JSON string, answered with
 * [key as 16 hex digits, id] on one line.
 */
public final class HashServer {
  private HashServer() {}

  public static void main(String[] args) throws Exception {
    BufferedReader in = LineServer.stdin();
    Map<?, ?> stored = (Map<?, ?>) Json.parse(in.readLine());
    HashedVocabulary vocab = HashedVocabulary.fromJson(stored);
    long seed = (Long) stored.get("seed");
    LineServer.serve(in, line -> {
      String token = (String) Json.parse(line);
      String key = String.format("%016x", HashedVocabulary.wordHash(token, seed));
      return "[\"" + key + "\"," + vocab.id(token) + "]";
    });
  }
}
