package io.vmpilot.conversation.server.threads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DaemonThreadsTest {
  @Test
  void aPoolFirstUsedFromALowPriorityThreadStartsItsThreadAtTheFactorysPriority() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(1, DaemonThreads.numbered("pool"));
    AtomicReference<Thread> ran = new AtomicReference<>();
    Thread low = new Thread(() -> pool.execute(() -> ran.set(Thread.currentThread())), "low");
    low.setPriority(Thread.MIN_PRIORITY);
    low.start();
    low.join();
    pool.shutdown();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ran.get().getPriority()).isEqualTo(Thread.NORM_PRIORITY);
    assertThat(ran.get().getName()).isEqualTo("pool-1");
    assertThat(ran.get().isDaemon()).isTrue();
  }

  @Test
  void numberedThreadsCountUpAndNamedOnesKeepTheirName() {
    DaemonThreads numbered = DaemonThreads.numbered("large", Thread.MIN_PRIORITY);
    assertThat(numbered.newThread(() -> { }).getName()).isEqualTo("large-1");
    Thread second = numbered.newThread(() -> { });
    assertThat(second.getName()).isEqualTo("large-2");
    assertThat(second.getPriority()).isEqualTo(Thread.MIN_PRIORITY);
    assertThat(DaemonThreads.named("sweeper").newThread(() -> { }).getName()).isEqualTo("sweeper");
  }

  @Test
  void refusesWhatIsNotAPriority() {
    assertThatThrownBy(() -> DaemonThreads.numbered("x", 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
