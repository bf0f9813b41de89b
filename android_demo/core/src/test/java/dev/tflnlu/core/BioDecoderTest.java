package dev.tflnlu.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class BioDecoderTest {
  private static final List<String> TAGS = Arrays.asList("O", "B-time", "I-time", "B-date", "I-date");

  @Test
  public void anInsideTagNeverFollowsOutside() {
    // Per-token argmax would say O, I-time: invalid. The best valid path is B-time, I-time.
    double[][] scores = {{5, 4, 0, 0, 0}, {0, 0, 9, 0, 0}};
    assertArrayEquals(new int[] {1, 2}, BioDecoder.viterbi(scores, TAGS));
  }

  @Test
  public void tiesGoToTheFirstTag() {
    double[][] scores = {{1, 1, 1, 1, 1}};
    assertArrayEquals(new int[] {0}, BioDecoder.viterbi(scores, TAGS));
    assertArrayEquals(new int[0], BioDecoder.viterbi(new double[0][], TAGS));
  }

  @Test
  public void spansAreSeqevalStyle() {
    String normalized = "at five am tomorrow";
    List<Tokenizer.Token> tokens = Tokenizer.splitNormalized(normalized);
    List<BioDecoder.Slot> slots =
        BioDecoder.spans(Arrays.asList("O", "B-time", "I-time", "I-date"), tokens, normalized);
    assertEquals(2, slots.size());
    assertEquals("time", slots.get(0).type);
    assertEquals("five am", slots.get(0).text);
    assertEquals(1, slots.get(0).start);
    assertEquals(3, slots.get(0).end);
    assertEquals("date", slots.get(1).type); // I-date after I-time starts a new span
    assertEquals("tomorrow", slots.get(1).text);
  }
}
