package io.vmpilot.conversation.server.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The search column's text: SearchText's words, each with its positions, within PostgreSQL's limits. */
class TsVectorsTest {
  private static String json(String text) {
    return "{\"role\":\"user\",\"content\":\"" + text + "\",\"n\":12}";
  }

  @Test
  void eachWordOnceWithAllItsPositionsInFirstOccurrenceOrder() {
    assertThat(TsVectors.of(json("Hello world, hello main.py"))).isEqualTo("'user':1 'hello':2,4 'world':3 'main':5 'py':6");
  }

  @Test
  void aWordTooLongIsLeftOutButStillTakesItsPosition() {
    String tooLong = "q".repeat(2001);
    String fits = "\u00e9".repeat(1000); // 2,000 bytes of UTF-8
    String over = "\u00e9".repeat(1001);
    assertThat(TsVectors.of(json("a " + tooLong + " b " + over + " " + fits + " " + tooLong + " c")))
        .isEqualTo("'user':1 'a':2 'b':4 '" + fits + "':6 'c':8");
  }

  @Test
  void aWordKeepsAtMost255Positions() {
    String vector = TsVectors.of(json("w ".repeat(300)));
    String positions = IntStream.rangeClosed(2, 256).mapToObj(Integer::toString).collect(Collectors.joining(","));
    assertThat(vector).isEqualTo("'user':1 'w':" + positions);
  }

  @Test
  void noWordsNoVector() {
    assertThat(TsVectors.of("{\"n\":1}")).isEmpty();
  }
}
