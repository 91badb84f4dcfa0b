package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import java.time.Duration;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import org.junit.jupiter.api.Test;

class CallTimeLimitTest {
  private static final Metadata.Key<String> TIMEOUT = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
  private static final String GET = "vmpilot.conversation.v1.ConversationService/Get";

  private static String after(String method, String given) {
    Metadata headers = new Metadata();
    if (given != null) {
      headers.put(TIMEOUT, given);
    }
    new CallTimeLimit(Duration.ofSeconds(120)).newServerStreamTracer(method, headers);
    return headers.get(TIMEOUT);
  }

  @Test
  void callsWithoutADeadlineOrWithALaterOneGetTheLimit() {
    assertThat(after(GET, null)).isEqualTo("120000m");
    assertThat(after(GET, "3H")).isEqualTo("120000m");
    assertThat(after(GET, "121S")).isEqualTo("120000m");
  }

  @Test
  void earlierDeadlinesGarbageAndOtherServicesAreLeftAlone() {
    assertThat(after(GET, "20S")).isEqualTo("20S");
    assertThat(after(GET, "500m")).isEqualTo("500m");
    assertThat(after(GET, "garbage")).isEqualTo("garbage");
    assertThat(after("grpc.health.v1.Health/Watch", null)).isNull();
  }

  @Test
  void aConversationWatchKeepsItsStreamOpenAsLongAsTheClientWants() {
    assertThat(after(ConversationServiceGrpc.getWatchMethod().getFullMethodName(), null)).isNull();
  }

  @Test
  void parsesEveryUnit() {
    assertThat(CallTimeLimit.parse("7n")).isEqualTo(7L);
    assertThat(CallTimeLimit.parse("7u")).isEqualTo(7_000L);
    assertThat(CallTimeLimit.parse("7m")).isEqualTo(7_000_000L);
    assertThat(CallTimeLimit.parse("7S")).isEqualTo(7_000_000_000L);
    assertThat(CallTimeLimit.parse("7M")).isEqualTo(420_000_000_000L);
    assertThat(CallTimeLimit.parse("1H")).isEqualTo(3_600_000_000_000L);
    assertThat(CallTimeLimit.parse("123456789S")).isNull();
    assertThat(CallTimeLimit.parse("S")).isNull();
    assertThat(CallTimeLimit.parse("-1S")).isNull();
    assertThat(CallTimeLimit.parse("10x")).isNull();
  }
}
