package dev.tflnlu.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.util.Arrays;
import org.junit.Test;

public class SubwordsTest {
  /** Ids written by tflnlu/data/subwords.py; tests/data/test_subwords.py derives them from the specification. */
  @Test
  public void idsArePythons() {
    assertArrayEquals(new int[] {1724, 3104, 2735, 1520, 2412, 2203, 0, 0, 0, 0, 0, 0}, new Subwords(3, 5, 4096, 12).tokenIds("cat"));
    int[] emoji = new Subwords(3, 5, 1 << 24, 12).tokenIds("\ud83d\ude00a");
    assertArrayEquals(new int[] {2203701, 14350795, 16591252}, Arrays.copyOf(emoji, 3));
    assertEquals(0, emoji[3]);
  }

  @Test
  public void ngramsAreCutByCodePoint() {
    assertEquals(Arrays.asList("<\ud83d\ude00a", "\ud83d\ude00a>", "<\ud83d\ude00a>"), new Subwords(3, 5, 7, 12).ngrams("\ud83d\ude00a"));
    assertEquals(
        Arrays.asList("<wo", "won", "ond", "nde", "der", "erf", "rfu", "ful", "ul>", "<won", "wond", "onde"),
        new Subwords(3, 5, 7, 12).ngrams("wonderful"));
  }

  @Test
  public void badSpecificationsAreRefused() {
    int[][] bad = {{1, 3, 7, 12}, {5, 3, 7, 12}, {3, 9, 7, 12}, {3, 5, 0, 12}, {3, 5, 7, 0}, {3, 5, 7, 65}};
    for (int[] b : bad) {
      try {
        new Subwords(b[0], b[1], b[2], b[3]);
        fail("accepted " + Arrays.toString(b));
      } catch (IllegalArgumentException expected) {
        // refused, as it should be
      }
    }
  }
}
