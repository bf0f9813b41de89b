package dev.tflnlu.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Test helper for the Python property test of the subword ids: the first line is a subword
 * specification (JSON object: min_n, max_n, buckets, per_token); every further line a JSON
 * string (a token), answered with [[n-gram, ...], [id, ...]] on one line.
 */
public final class SubwordServer {
  private SubwordServer() {}

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    Map<?, ?> spec = (Map<?, ?>) Json.parse(in.readLine());
    Subwords subwords = new Subwords(number(spec, "min_n"), number(spec, "max_n"), number(spec, "buckets"), number(spec, "per_token"));
    String line;
    while ((line = in.readLine()) != null) {
      String token = (String) Json.parse(line);
      StringBuilder answer = new StringBuilder("[[");
      List<String> grams = subwords.ngrams(token);
      for (int i = 0; i < grams.size(); i++) {
        answer.append(i > 0 ? "," : "").append(Json.quote(grams.get(i)));
      }
      answer.append("],[");
      int[] ids = subwords.tokenIds(token);
      for (int i = 0; i < ids.length; i++) {
        answer.append(i > 0 ? "," : "").append(ids[i]);
      }
      out.println(answer.append("]]"));
      out.flush();
    }
  }

  private static int number(Map<?, ?> spec, String name) {
    return ((Long) spec.get(name)).intValue();
  }
}
