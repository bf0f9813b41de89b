package dev.tflnlu.core;

import java.io.BufferedReader;
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
    BufferedReader in = LineServer.stdin();
    Map<?, ?> spec = (Map<?, ?>) Json.parse(in.readLine());
    Subwords subwords = new Subwords(number(spec, "min_n"), number(spec, "max_n"), number(spec, "buckets"), number(spec, "per_token"));
    LineServer.serve(in, line -> answer(subwords, (String) Json.parse(line)));
  }

  private static String answer(Subwords subwords, String token) {
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
    return answer.append("]]").toString();
  }

  private static int number(Map<?, ?> spec, String name) {
    return ((Long) spec.get(name)).intValue();
  }
}
