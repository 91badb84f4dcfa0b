package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Exactly one RFC 8259 JSON object, within the nesting limit, is valid; nothing else is. */
class JsonObjectValidatorTest {
  private final JsonObjectValidator validator = new JsonObjectValidator(4);

  @ParameterizedTest
  @ValueSource(strings = {
      "{}",
      " \t\r\n{ } \n",
      "{\"a\":1}",
      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}",
      "{\"u\":\"caf\\u00e9 \\u00E9 \\ud83d\\ude00 \\u0000\"}",
      "{\"e\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}",
      "{\"raw\":\"café 😀 日本 \u007f \u2028\"}",
      "{\"n\":[0,-0,1.5,-2e10,3E-7,1e+2,9007199254740993,123456789012345678901234567890]}",
      "{\"t\":true,\"f\":false,\"z\":null}",
      "{\"dup\":1,\"dup\":2}",
      "{\"\":\"empty key\"}",
      "{\"a\":{\"b\":{\"c\":[]}}}", // depth 4, the limit
      "{\n  \"pretty\": \"printed\",\n  \"n\": [1, 2.5, \"\\u00e9\"]\n}", // read, not skipped: it holds newlines
  })
  void acceptsWellFormedObjects(String json) {
    assertThat(validator.problem(json)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "",
      "   ",
      "[]",
      "[{\"a\":1}]",
      "\"a string\"",
      "42",
      "true",
      "null",
      "{",
      "}",
      "{\"a\":1",
      "{\"a\":1}}",
      "{\"a\":1} {\"b\":2}",
      "{\"a\":1}x",
      "{\"a\":1} // comment",
      "{\"a\":1}/*c*/",
      "{/*c*/\"a\":1}",
      "{\"a\":1 # comment\n}",
      "{'a':1}",
      "{\"a\":'b'}",
      "{a:1}",
      "{\"a\":NaN}",
      "{\"a\":Infinity}",
      "{\"a\":-Infinity}",
      "{\"a\":1,}",
      "{\"a\":[1,2,]}",
      "{,\"a\":1}",
      "{\"a\" 1}",
      "{\"a\":1;\"b\":2}",
      "{\"a\"=1}",
      "{\"a\":01}",
      "{\"a\":-01}",
      "{\"a\":1.}",
      "{\"a\":.5}",
      "{\"a\":+1}",
      "{\"a\":0x10}",
      "{\"a\":1e}",
      "{\"a\":\"\\x41\"}",
      "{\"a\":\"\\'\"}",
      "{\"a\":\"\\u00G1\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"tab\there\"}",
      "{\"a\":\"new\nline\"}",
      "{\"a\":\"nul\u0000\"}",
      "{\"a\":\"unit\u001fsep\"}",
      // The same faults in a name, and in a string inside an array.
      "{\"\\x41\":1}",
      "{\"\\u12\":1}",
      "{\"tab\there\":1}",
      "{\"a\":[\"ok\",\"\\q\"]}",
      "{\"a\":[1,-]}",
      "{\"a\":tru}",
      "{\"a\":nulll}",
      "{\"a\":TRUE}",
      "{\"a\":nul}",
      "{\"a\":undefined}",
      ")]}'\n{\"a\":1}",
      "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", // depth 5, over the limit of 4
      "{\"a\":[[[[]]]]}",
  })
  void rejectsEverythingElse(String json) {
    assertThat(validator.problem(json)).as("problem with %s", json).isPresent()
        .hasValueSatisfying(p -> assertThat(p).isNotBlank());
  }

  @Test
  void explainsWhatIsWrong() {
    assertThat(validator.problem("[1]")).hasValueSatisfying(p -> assertThat(p).contains("JSON object").contains("array"));
    assertThat(validator.problem("\"s\"")).hasValueSatisfying(p -> assertThat(p).contains("string"));
    assertThat(validator.problem("7")).hasValueSatisfying(p -> assertThat(p).contains("number"));
    assertThat(validator.problem("{\"a\":[[[[]]]]}")).hasValueSatisfying(p -> assertThat(p).contains("deeper than 4"));
    assertThat(validator.problem("{\"a\":1,}")).hasValueSatisfying(p -> assertThat(p).contains("well-formed"));
    // Positions help a client in any language; Gson's advice about its own API would not.
    assertThat(validator.problem("{'a':1}")).hasValueSatisfying(p -> assertThat(p)
        .contains("line 1 column")
        .doesNotContainIgnoringCase("gson")
        .doesNotContainIgnoringCase("strictness")
        .doesNotContainIgnoringCase("lenient")
        .doesNotContain("http"));
  }

  @Test
  void deepNestingIsRejectedWithoutOverflowingTheStack() {
    String deep = "[".repeat(100_000);
    assertThat(new JsonObjectValidator(64).problem("{\"a\":" + deep)).isPresent();
    assertThat(new JsonObjectValidator(64).problem(deep)).isPresent();
  }

  @Test
  void aLongFlatObjectIsFine() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < 10_000; i++) {
      sb.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":[").append(i).append(",\"v\"]");
    }
    assertThat(validator.problem(sb.append('}').toString())).isEmpty();
  }
}
