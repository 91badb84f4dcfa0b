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
    long spinUntil = System.nanoTime() + 300_000_000L; // busy for 0.3 s: at least 30 ticks of this process
    long sink = 0;
    while (System.nanoTime() < spinUntil) {
      sink += Long.numberOfTrailingZeros(System.nanoTime());
    }
    MachineCpu.Use use = MachineCpu.between(before, MachineCpu.sample(), 10);
    assertThat(sink).isNotNegative();
    assertThat(use.idlePercent()).isBetween(0.0, 100.0);
    assertThat(use.stealPercent()).isBetween(0.0, 100.0);
    assertThat(use.idlePercent() + use.stealPercent()).isLessThanOrEqualTo(100.0);
    // ~300 ms over 10 ops; ticks are 10 ms, and the spin may be descheduled for part of the time.
    assertThat(use.clientCpuMsPerOp()).isBetween(5.0, 40.0);
  }

  @Test
  void unknownCountersGiveUnknownFiguresNotZeros() {
    MachineCpu.Sample unknown = new MachineCpu.Sample(null, null);
    assertThat(MachineCpu.between(unknown, unknown, 10)).isEqualTo(new MachineCpu.Use(null, null, null));
    MachineCpu.Sample known = new MachineCpu.Sample(new long[] {1, 0, 1, 1, 0, 0, 0, 0}, 100L);
    assertThat(MachineCpu.between(known, known, 0)).as("no time passed, no ops")
        .isEqualTo(new MachineCpu.Use(null, null, null));
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
