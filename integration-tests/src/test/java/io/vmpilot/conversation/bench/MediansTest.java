package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class MediansTest {
  private static Result row(int round, String workload, String backend, String durability, double opsPerSecond) {
    return turn(round, workload, backend, durability, opsPerSecond, 1.0);
  }

  private static Result turn(int round, String workload, String backend, String durability, double opsPerSecond,
      double p50Ms) {
    return new Result(round, workload, backend, durability, 64, 1000, 1.0, opsPerSecond, p50Ms, 2.0, 3.0, null,
        null, null, null, null, 0, 0, null, "", null, null, null);
  }

  private static Result costing(String backend, String durability, Double serverMs, Double clientMs) {
    return new Result(1, "W1", backend, durability, 64, 1000, 1.0, 1000, 1.0, 2.0, 3.0, null, serverMs, null, null,
        null, 0, 0, null, "", new MachineCpu.Use(10.0, 0.0, clientMs), null, null);
  }

  @Test
  void theCpuBoundIsMemorysMachineCpuPerOpOverSqliteFulls() {
    Medians.CpuBound bound = Medians.cpuBound(List.of(costing("memory", "-", 0.05, 0.06),
        costing("sqlite", "full", 0.12, 0.08), costing("sqlite", "normal", 0.01, 0.01)), "W1");
    assertThat(bound.memoryMsPerOp()).isCloseTo(0.11, within(1e-9));
    assertThat(bound.sqliteMsPerOp()).isCloseTo(0.20, within(1e-9));
    assertThat(bound.bestRatio()).isCloseTo(0.55, within(1e-9));
    assertThat(Medians.cpuBound(List.of(costing("memory", "-", 0.05, 0.06), costing("sqlite", "full", 0.12, null)),
        "W1")).as("the benchmark's own CPU unknown").isNull();
    assertThat(Medians.cpuBound(List.of(costing("memory", "-", 0.05, 0.06)), "W1")).isNull();
  }

  @Test
  void eachRowIsItsMedianRoundNotedWithTheRangeAndRatiosComeFromOneRoundOrTheMedians() {
    List<Result> all = List.of(
        row(1, "W1", "memory", "-", 9000), row(1, "W1", "sqlite", "full", 4000), row(1, "W1", "sqlite", "normal", 1),
        row(2, "W1", "memory", "-", 6000), row(2, "W1", "sqlite", "full", 4500), row(2, "W1", "sqlite", "normal", 2),
        row(3, "W1", "memory", "-", 8000), row(3, "W1", "sqlite", "full", 3000), row(3, "W1", "sqlite", "normal", 3));

    List<Result> medians = Medians.of(all);

    assertThat(medians).extracting(Result::backend, Result::durability, Result::round, Result::opsPerSecond)
        .containsExactly(
            tuple("memory", "-", 3, 8000.0),
            tuple("sqlite", "full", 1, 4000.0),
            tuple("sqlite", "normal", 2, 2.0));
    assertThat(medians.get(0).note()).isEqualTo("median of 3 rounds (6000-9000 ops/s)");
    assertThat(Medians.ratio(medians, null, "W1")).isEqualTo(0.5);
    assertThat(Medians.ratio(all, 2, "W1")).isEqualTo(0.75);
    assertThat(Medians.ratio(all, 2, "W4-10")).isNull();
  }

  @Test
  void growthComparesTheLongConversationsTurnWithTheShortOnesForEachBackend() {
    List<Result> rows = List.of(
        turn(1, "W4-10", "memory", "-", 9000, 6.0), turn(1, "W4-10000", "memory", "-", 10000, 5.4),
        turn(1, "W4-10", "sqlite", "full", 6000, 10.0), turn(1, "W4-1000", "sqlite", "full", 5000, 12.0),
        turn(1, "W4-10000", "sqlite", "full", 4000, 14.0),
        turn(1, "W4-10", "sqlite", "normal", 6000, 10.0)); // no long row: left out

    assertThat(Medians.growth(rows, "W4-10", "W4-10000"))
        .extracting(Medians.Growth::backend, Medians.Growth::durability, Medians.Growth::p50Ratio,
            Medians.Growth::opsRatio)
        .containsExactly(
            tuple("memory", "-", 0.9, 0.9),
            tuple("sqlite", "full", 1.4, 1.5));
  }

  @Test
  void aSingleRoundIsReportedAsItIsAndAnEvenCountTakesTheLowerMiddle() {
    assertThat(Medians.of(List.of(row(1, "W3", "memory", "-", 5))).get(0).note()).isEmpty();
    List<Result> two = Medians.of(List.of(row(1, "W3", "memory", "-", 7), row(2, "W3", "memory", "-", 5)));
    assertThat(two).singleElement().extracting(Result::opsPerSecond).isEqualTo(5.0);
  }
}
