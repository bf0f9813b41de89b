package dev.tflnlu.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.Test;

public class HashedVocabularyTest {
  /**
   * Written by tflnlu/data/hashed_vocab.py for <pad>, <unk>, wake, me, up, été, 😀x, alarm,
   * five at 8 bits; tests/data/test_hashed_vocab.py pins the same object and ids.
   */
  static final String STORED =
      "{\"version\": 1, \"words\": 7, \"seed\": 0, \"fingerprint_bits\": 8, \"buckets\": 2,"
          + " \"pilots\": \"AwA=\", \"fingerprints\": \"7dB2fXsO+g==\"}";

  private static Map<?, ?> stored() {
    return (Map<?, ?>) Json.parse(STORED);
  }

  @Test
  public void knownWordsGetPythonsIdsAndOthersAreUnknown() {
    HashedVocabulary vocab = HashedVocabulary.fromJson(stored());
    String[] tokens = {"wake", "me", "up", "\u00e9t\u00e9", "\ud83d\ude00x", "alarm", "five", "later", "<pad>", "<unk>"};
    int[] ids = new int[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      ids[i] = vocab.id(tokens[i]);
    }
    assertArrayEquals(new int[] {5, 6, 2, 4, 8, 3, 7, 1, 0, 1}, ids);
    assertEquals(9, vocab.size());
    assertArrayEquals(new int[] {5, 6, 1, 0}, vocab.ids(Tokenizer.tokenize("wake me later"), 4));
  }

  @Test
  public void theHashIsPythonsOnSupplementaryCharactersAndTheEmptyString() {
    assertEquals(0x4d1f2d920f793dd1L, HashedVocabulary.wordHash("\ud83d\ude00x", 0));
    assertEquals(0xf121e77647e3e933L, HashedVocabulary.wordHash("", 7));
  }

  @Test
  public void damagedFormsAreRefused() {
    String[][] damage = {
      {"pilots", "AwA"}, {"pilots", "A=wA"}, {"pilots", "gA=="}, {"fingerprints", "7dB2fXsO"},
      {"fingerprint_bits", "5"}, {"version", "2"}, {"words", "-1"}, {"seed", "\"0\""},
    };
    for (String[] change : damage) {
      Map<Object, Object> copy = new HashMap<>(stored());
      copy.put(change[0], Json.parse(change[1].matches("-?\\d+|\".*\"") ? change[1] : "\"" + change[1] + "\""));
      try {
        HashedVocabulary.fromJson(copy);
        fail("accepted " + Arrays.toString(change));
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage(), e.getMessage().contains("hashed vocabulary") || e.getMessage().contains("base64"));
      }
    }
  }

  @Test
  public void theMetadataReadsEitherForm() {
    String labels = "\"intents\": [\"x\"], \"tags\": [\"O\"], \"tokenizer\": {\"version\": 1, \"max_len\": 4}";
    ModelMetadata hashed = ModelMetadata.fromJson("{\"vocab_hashed\": " + STORED + ", " + labels + "}");
    assertTrue(hashed.vocab.isEmpty());
    assertEquals(5, hashed.vocabulary.id("wake"));
    ModelMetadata listed = ModelMetadata.fromJson("{\"vocab_front_coded\": \"0<pad>\\n1unk>\\n0wake\", " + labels + "}");
    assertEquals(2, listed.vocabulary.id("wake"));
  }
}
