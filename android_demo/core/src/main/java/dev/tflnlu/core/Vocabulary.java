package dev.tflnlu.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Token to id from the word list, as the export's {@code vocab.txt}: id 0 padding, id 1 unknown. */
public final class Vocabulary implements WordIds {
  public static final String PAD_TOKEN = "<pad>";
  public static final String UNK_TOKEN = "<unk>";

  private final Map<String, Integer> ids;
  private final int size;

  public Vocabulary(List<String> tokens) {
    if (tokens.size() < 2 || !PAD_TOKEN.equals(tokens.get(0)) || !UNK_TOKEN.equals(tokens.get(1))) {
      throw new IllegalArgumentException("a vocabulary must start with " + PAD_TOKEN + ", " + UNK_TOKEN);
    }
    ids = new HashMap<>(tokens.size() * 2);
    for (int i = 0; i < tokens.size(); i++) {
      if (ids.put(tokens.get(i), i) != null) {
        throw new IllegalArgumentException("the vocabulary repeats the token '" + tokens.get(i) + "' (line " + (i + 1) + ")");
      }
    }
    size = tokens.size();
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public int id(String token) {
    Integer id = ids.get(token);
    return id == null ? UNK_ID : id;
  }
}
