package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class MachineCpuTest {
  @Test
  @EnabledOnOs(OS.LINUX)
  void aBusyPhaseShowsThisProcesssCpuPerOpAndTheMachinesSharesAddUp() {
    MachineCpu.Sample before = MachineCpu.sample();
    assertThat(before.clientMillis()).isNotNull();
    long start = System.nanoTime();
    long deadline = start + 20_000_000_000L;
    long sink = 0;
    MachineCpu.Sample after;
    // Busy until this process has used at least 100 ms of CPU (however slow the machine is right now).
    do {
      for (int i = 0; i < 100_000; i++) {
        sink += Long.numberOfTrailingZeros(System.nanoTime());
      }
      after = MachineCpu.sample();
    } while (after.clientMillis() - before.clientMillis() < 100 && System.nanoTime() < deadline);
    double wallMillis = (System.nanoTime() - start) / 1e6;
    MachineCpu.Use use = MachineCpu.between(before, after, 10);
    assertThat(sink).isNotNegative();
    // The kernel counts CPU time in 10 ms ticks, each given whole to the thread it found running, so over a short
    // phase every core can add up to a tick beyond the time really used (seen: 100 ms in 43 ms on 2 cores, while
    // the JIT compiler ran beside this thread).
    int cores = Runtime.getRuntime().availableProcessors();
    assertThat(use.clientCpuMsPerOp()).as("100 ms or more over 10 ops").isGreaterThanOrEqualTo(10.0)
        .as("no more than all cores for the whole time, plus a tick each and one more").isLessThanOrEqualTo(
            (cores * wallMillis + 10.0 * (cores + 1)) / 10);
    assertThat(use.idlePercent()).isBetween(0.0, 100.0);
    assertThat(use.stealPercent()).isBetween(0.0, 100.0);
    assertThat(use.idlePercent() + use.stealPercent()).isLessThanOrEqualTo(100.0);
  }

  @Test
  void unknownCountersGiveUnknownFiguresNotZeros() {
    MachineCpu.Sample unknown = new MachineCpu.Sample(null, null);
    assertThat(MachineCpu.between(unknown, unknown, 10)).isEqualTo(MachineCpu.Use.UNKNOWN);
    MachineCpu.Sample known = new MachineCpu.Sample(new long[] {1, 0, 1, 1, 0, 0, 0, 0}, 100L);
    assertThat(MachineCpu.between(known, known, 0)).as("no time passed, no ops")
        .isEqualTo(MachineCpu.Use.UNKNOWN);
  }

  @Test
  void idleCountsIoWaitAndStealIsTheHypervisorsShare() {
    // user nice system idle iowait irq softirq steal guest guest_nice
    MachineCpu.Sample a = new MachineCpu.Sample(new long[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0L);
    MachineCpu.Sample b = new MachineCpu.Sample(new long[] {50, 0, 10, 20, 10, 0, 0, 10, 5, 0}, 40L);
    MachineCpu.Use use = MachineCpu.between(a, b, 4);
    assertThat(use.idlePercent()).isEqualTo(30.0);
    assertThat(use.stealPercent()).isEqualTo(10.0);
    assertThat(use.clientCpuMsPerOp()).isEqualTo(10.0);
  }
}
