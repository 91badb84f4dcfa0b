package io.vmpilot.conversation.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTextTest {
  /** ASCII, two-, three- and four-byte characters, an escape kept as written, a number past a double's precision. */
  private static final List<String> TEXTS = List.of("{}", "{\"a\":\"é\"}", "{\"k\":\"日本\", \"e\":\"😀\"}",
      "{\"s\":\"\\ud83d\\ude00\"}", "{\"n\":9007199254740993}");

  @Test
  void eitherFormGivesTheSameTextBytesAndLength() {
    for (String s : TEXTS) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      JsonText asText = JsonText.of(s);
      JsonText asBytes = JsonText.ofUtf8(utf8.clone());
      for (JsonText t : List.of(asText, asBytes)) {
        assertThat(t.text()).as(s).isEqualTo(s);
        assertThat(ConversationStoreContract.utf8(t)).as(s).isEqualTo(utf8);
        assertThat(t.utf8Length()).as(s).isEqualTo(utf8.length);
        assertThat(t.sameText(s)).as(s).isTrue();
        assertThat(t.toString()).isEqualTo(s);
      }
    }
  }

  @Test
  void equalityIsByTextWhateverTheForm() {
    JsonText text = JsonText.of("{\"a\":\"é\"}");
    JsonText bytes = JsonText.ofUtf8("{\"a\":\"é\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(text).isEqualTo(bytes).hasSameHashCodeAs(bytes);
    assertThat(bytes).isEqualTo(text).isEqualTo(JsonText.ofUtf8(text.text().getBytes(StandardCharsets.UTF_8)));

    // Differences that a lenient comparison would hide: white space, a decomposed é, a number's spelling.
    assertThat(bytes).isNotEqualTo(JsonText.of("{\"a\": \"é\"}"))
        .isNotEqualTo(JsonText.ofUtf8("{\"a\":\"e\u0301\"}".getBytes(StandardCharsets.UTF_8)));
    assertThat(JsonText.of("{\"n\":1.0}")).isNotEqualTo(JsonText.ofUtf8("{\"n\":1}".getBytes(StandardCharsets.UTF_8)));
    assertThat(bytes.sameText("{\"a\":\"e\u0301\"}")).isFalse();
    assertThat(bytes).isNotEqualTo("{\"a\":\"é\"}");
  }

  @Test
  void theUnsafeArrayIsTheBytesThemselvesNotACopy() {
    byte[] stored = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    assertThat(JsonText.ofUtf8(stored).unsafeUtf8Array()).isSameAs(stored);
    assertThat(JsonText.of("{\"a\":\"é\"}").unsafeUtf8Array())
        .isEqualTo("{\"a\":\"é\"}".getBytes(StandardCharsets.UTF_8));
  }
}
