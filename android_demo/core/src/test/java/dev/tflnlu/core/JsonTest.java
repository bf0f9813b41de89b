package dev.tflnlu.core;

import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
  @Test
  public void parsesNestedValues() {
    Map<?, ?> map = (Map<?, ?>) Json.parse("{\"a\": [1, -2.5, true, null], \"b\": {\"c\": \"d\"}}");
    assertEquals(Arrays.asList(1L, -2.5, true, null), map.get("a"));
    assertEquals("d", ((Map<?, ?>) map.get("b")).get("c"));
  }

  @Test
  public void escapesAndSurrogatePairs() {
    assertEquals("a\"\\\n\u00e9\ud83d\ude00", Json.parse("\"a\\\"\\\\\\n\\u00e9\\ud83d\\ude00\""));
    assertEquals("\"\\u00e9\\ud83d\\ude00\"", Json.quote("\u00e9\ud83d\ude00"));
    assertEquals("x\u00e9", Json.parse("\"x\u00e9\""));
  }

  @Test
  public void roundTripsThroughQuote() {
    String s = "tab\t \"q\" \\ \u0000 \u2028 😀";
    assertEquals(s, Json.parse(Json.quote(s)));
    assertEquals(Arrays.asList(), (List<?>) Json.parse("[ ]"));
  }

  @Test(expected = IllegalArgumentException.class)
  public void rejectsTrailingText() {
    Json.parse("[1] x");
  }

  @Test(expected = IllegalArgumentException.class)
  public void rejectsUnterminatedStrings() {
    Json.parse("\"abc");
  }
}
