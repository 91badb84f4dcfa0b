package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** W6's row names, its timed clients, and the line comparing its largest size with its smallest. */
class CreationAtScaleTest {
  @Test
  void rowsAreNamedBySizeAndOnlyTheCreatorsAreTimed() {
    assertThat(CreationAtScale.rowName(10_000)).isEqualTo("W6-10k");
    assertThat(CreationAtScale.rowName(1_000_000)).isEqualTo("W6-1M");
    assertThat(CreationAtScale.rowName(1_500)).isEqualTo("W6-1500");
    assertThat(CreationAtScale.rowName(2_500_000)).isEqualTo("W6-2500k");
    CreationAtScale w = new CreationAtScale("run", 1000, "seeded by hand");
    assertThat(w.clients).isEqualTo(CreationAtScale.CREATORS + 1);
    assertThat(w.timed(0)).isTrue();
    assertThat(w.timed(CreationAtScale.CREATORS - 1)).isTrue();
    assertThat(w.timed(CreationAtScale.CREATORS)).as("the bystander").isFalse();
  }

  @Test
  void theScaleLineSetsEachBackendsLastSizeAgainstItsFirst() {
    Result small = w6("W6-10k", "sqlite", "full", 1000, 4.0, 0.8, 4.5);
    Result large = w6("W6-1M", "sqlite", "full", 900, 5.0, 1.0, 6.0);
    Result memoryOnly = w6("W6-10k", "memory", "-", 5000, 1.0, 0.2, 1.1);
    assertThat(Report.scaleLines(List.of(small, memoryOnly, large))).containsExactly(
        "W6 sqlite/full: W6-1M vs W6-10k: creations/s 900 vs 1000 (0.90x), creation p50 5.00 vs 4.00 ms (1.25x),"
            + " bystander Append p50 6.00 vs 4.50 ms, server CPU per creation 1.000 vs 0.800 ms");
    assertThat(Report.scaleLines(List.of(small))).as("one size: nothing to compare").isEmpty();
  }

  private static Result w6(String workload, String backend, String durability, double opsPerSecond, double p50,
      double cpu, double bystanderP50) {
    return new Result(1, workload, backend, durability, 9, 100, 1.0, opsPerSecond, p50, 2 * p50, 3 * p50, null, cpu,
        null, null, null, 0, 0, null, "", null, null, null).withBystander(50, bystanderP50, 2 * bystanderP50);
  }
}
