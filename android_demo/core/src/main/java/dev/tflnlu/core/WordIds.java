package dev.tflnlu.core;

import java.util.List;

/**
 * Token to id, whichever form the model file stores its vocabulary in: the word list
 * ({@link Vocabulary}) or the string-free hash ({@link HashedVocabulary}). Id 0 is padding, id 1
 * unknown (docs/tokenizer.md section 4).
 */
public interface WordIds {
  int PAD_ID = 0;
  int UNK_ID = 1;

  /** The number of ids (the embedding's rows), padding and unknown included. */
  int size();

  int id(String token);

  /** The model input: ids of the first {@code maxLen} tokens, padded with PAD_ID to {@code maxLen}. */
  default int[] ids(List<Tokenizer.Token> tokens, int maxLen) {
    int[] result = new int[maxLen]; // zero-filled: PAD_ID
    for (int i = 0; i < Math.min(maxLen, tokens.size()); i++) {
      result[i] = id(tokens.get(i).text);
    }
    return result;
  }
}
