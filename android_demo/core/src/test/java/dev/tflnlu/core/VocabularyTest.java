package dev.tflnlu.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import org.junit.Test;

public class VocabularyTest {
  private final Vocabulary vocab = new Vocabulary(Arrays.asList("<pad>", "<unk>", "wake", "me", "up"));

  @Test
  public void padsUnknownsAndCuts() {
    assertArrayEquals(new int[] {2, 3, 1, 0, 0}, vocab.ids(Tokenizer.tokenize("wake me later"), 5));
    assertArrayEquals(new int[] {2, 3}, vocab.ids(Tokenizer.tokenize("wake me up"), 2));
    assertArrayEquals(new int[] {0, 0, 0}, vocab.ids(Tokenizer.tokenize(""), 3));
    assertEquals(5, vocab.size());
  }

  @Test(expected = IllegalArgumentException.class)
  public void specialTokensComeFirst() {
    new Vocabulary(Arrays.asList("wake", "<pad>", "<unk>"));
  }

  @Test(expected = IllegalArgumentException.class)
  public void noRepeatedToken() {
    new Vocabulary(Arrays.asList("<pad>", "<unk>", "a", "a"));
  }
}
