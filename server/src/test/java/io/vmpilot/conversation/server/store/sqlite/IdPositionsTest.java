package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdPositionsTest {
  @Test
  void findsEveryIdItWasGivenAcrossGrowthAndNothingElse() {
    IdPositions t = new IdPositions();
    for (int i = 0; i < 10_000; i++) {
      t.put("msg-" + i, i);
    }
    assertThat(t.size()).isEqualTo(10_000);
    for (int i = 0; i < 10_000; i++) {
      assertThat(t.positionOf("msg-" + i)).isEqualTo(i);
    }
    assertThat(t.positionOf("msg-10000")).isEqualTo(-1);
    assertThat(t.footprintBytes()).as("24-64 bytes per id").isBetween(10_000L * 24, 10_000L * 64);
  }

  @Test
  void aHashSharedByTwoIdsKeepsTheFirstPosition() {
    IdPositions t = new IdPositions(id -> 7);
    t.put("a", 3);
    t.put("b", 5);
    assertThat(t.size()).isEqualTo(1);
    assertThat(t.positionOf("b")).as("a hint to confirm, not an answer").isEqualTo(3);
  }

  @Test
  void distinctIdsGetDistinctHashes() {
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      seen.add(IdPositions.hash("id-" + i));
    }
    assertThat(seen).hasSize(100_000);
    assertThat(IdPositions.hash("é")).isNotEqualTo(IdPositions.hash("e"));
  }
}
