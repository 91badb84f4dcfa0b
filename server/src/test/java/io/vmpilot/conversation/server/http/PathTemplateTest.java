package io.vmpilot.conversation.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PathTemplateTest {
  private final PathTemplate append = PathTemplate.parse("/v1/conversations/{thread_id}:append");
  private final PathTemplate get = PathTemplate.parse("/v1/conversations/{thread_id}");

  @Test
  void aVariableTakesOneRawSegmentAndTheVerbIsSplitOffTheLastColon() {
    assertThat(append.variables()).containsExactly("thread_id");
    assertThat(append.match("/v1/conversations/a%2Fb:c:append")).contains(Map.of("thread_id", "a%2Fb:c"));
    assertThat(append.match("/v1/conversations/:append")).contains(Map.of("thread_id", ""));
    assertThat(append.match("/v1/conversations/a:save")).isEmpty();
    assertThat(append.match("/v1/conversations/a/b:append")).isEmpty();
    assertThat(get.match("/v1/conversations/a:append")).as("no verb: the colon is the id's")
        .contains(Map.of("thread_id", "a:append"));
    assertThat(get.match("/v1/conversations")).isEmpty();
    assertThat(get.match("/v2/conversations/a")).isEmpty();
  }

  @Test
  void formsThisServerDoesNotImplementAreRefusedAtStartUp() {
    assertThatThrownBy(() -> PathTemplate.parse("/v1/{name=conversations/*}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PathTemplate.parse("/v1/**")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PathTemplate.parse("v1/x")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void percentDecodingIsStrict() {
    assertThat(PercentDecoding.pathSegment("a%2Fb+c%20%C3%A9")).isEqualTo("a/b+c é");
    assertThat(PercentDecoding.queryPart("a+b%2B")).isEqualTo("a b+");
    assertThatThrownBy(() -> PercentDecoding.pathSegment("%E9")).hasMessageContaining("UTF-8");
    assertThatThrownBy(() -> PercentDecoding.pathSegment("%zz")).hasMessageContaining("malformed");
    assertThatThrownBy(() -> PercentDecoding.pathSegment("abc%4")).hasMessageContaining("malformed");
  }
}
