package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The benchmark's reading of a server's JIT compiler CPU, tried on this very JVM. */
class ServerCompilerCpuTest {
  @Test
  @EnabledOnOs(OS.LINUX)
  void readsTheCompilerThreadsOfARunningJvm() {
    ServerUnderTest self = new ServerUnderTest("localhost:0", null, ProcessHandle.current().pid());
    Long before = self.compilerCpuMillis();
    assertThat(before).as("this JVM's C1/C2 compiler threads").isNotNull().isNotNegative();
    assertThat(self.cpuMillis()).as("the whole process has used at least as much").isGreaterThanOrEqualTo(before);
  }

  @Test
  void isUnknownWithoutAProcessId() {
    assertThat(new ServerUnderTest("localhost:0", null, null).compilerCpuMillis()).isNull();
  }
}
