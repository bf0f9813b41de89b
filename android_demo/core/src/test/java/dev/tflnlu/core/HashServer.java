package dev.tflnlu.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Test helper for the Python property test of the hashed vocabulary: the first line is a stored
 * hashed vocabulary (JSON object); every further line a JSON string, answered with
 * [key as 16 hex digits, id] on one line.
 */
public final class HashServer {
  private HashServer() {}

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    Map<?, ?> stored = (Map<?, ?>) Json.parse(in.readLine());
    HashedVocabulary vocab = HashedVocabulary.fromJson(stored);
    long seed = (Long) stored.get("seed");
    String line;
    while ((line = in.readLine()) != null) {
      String token = (String) Json.parse(line);
      String key = String.format("%016x", HashedVocabulary.wordHash(token, seed));
      out.println("[\"" + key + "\"," + vocab.id(token) + "]");
      out.flush();
    }
  }
}
