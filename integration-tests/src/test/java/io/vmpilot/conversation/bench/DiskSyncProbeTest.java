package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk-sync probe measures real syncs in the directory it is given and leaves nothing behind. */
class DiskSyncProbeTest {
  @TempDir
  Path dir;

  @Test
  void measuresOrderedLatenciesInTheDirectoryAndDeletesItsFile() throws Exception {
    DiskSyncProbe.Latency latency = DiskSyncProbe.measure(dir);
    assertThat(latency.directory()).isEqualTo(dir.toString());
    assertThat(latency.p50Ms()).isPositive();
    assertThat(latency.p99Ms()).isGreaterThanOrEqualTo(latency.p50Ms());
    assertThat(latency.maxMs()).isGreaterThanOrEqualTo(latency.p99Ms());
    try (var left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }
}
