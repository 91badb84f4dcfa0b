package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InFlightBudgetTest {
  @Test
  void takesWhatFitsAndRefusesTheRest() {
    InFlightBudget budget = new InFlightBudget(100);
    assertThat(budget.tryAcquire(60, 0)).isTrue();
    assertThat(budget.tryAcquire(40, 0)).isTrue();
    assertThat(budget.tryAcquire(1, 0)).isFalse();
    assertThat(budget.used()).isEqualTo(100);
    assertThat(budget.refusals()).isEqualTo(1);
    budget.release(40);
    assertThat(budget.tryAcquire(30, 0)).isTrue();
    assertThat(budget.used()).isEqualTo(90);
  }

  @Test
  void aHolderAloneMayGoOverTheBudget() {
    InFlightBudget budget = new InFlightBudget(100);
    assertThat(budget.tryAcquire(150, 0)).isTrue();
    // The same holder goes on growing while nobody else holds anything...
    assertThat(budget.tryAcquire(50, 150)).isTrue();
    // ...but nobody else gets in until it gives back.
    assertThat(budget.tryAcquire(1, 0)).isFalse();
    budget.release(200);
    assertThat(budget.tryAcquire(100, 0)).isTrue();
  }

  @Test
  void aWaiterGetsInWhenBytesComeBack() throws Exception {
    InFlightBudget budget = new InFlightBudget(100);
    assertThat(budget.tryAcquire(100, 0)).isTrue();
    CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
      try {
        return budget.acquire(50, 0, TimeUnit.SECONDS.toNanos(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    budget.release(60);
    assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(budget.used()).isEqualTo(90);
    assertThat(budget.acquire(20, 0, TimeUnit.MILLISECONDS.toNanos(10))).isFalse();
  }

  @Test
  void awaitRoomLooksWithoutTaking() throws Exception {
    InFlightBudget budget = new InFlightBudget(100);
    assertThat(budget.awaitRoom(150, 0)).as("alone, anything fits").isTrue();
    assertThat(budget.used()).isZero();
    assertThat(budget.tryAcquire(80, 0)).isTrue();
    assertThat(budget.awaitRoom(20, 0)).isTrue();
    assertThat(budget.awaitRoom(30, TimeUnit.MILLISECONDS.toNanos(10))).isFalse();
    assertThat(budget.refusals()).isEqualTo(1);
    CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
      try {
        return budget.awaitRoom(30, TimeUnit.SECONDS.toNanos(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    budget.release(50);
    assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(budget.used()).isEqualTo(30);
  }

  @Test
  void theDefaultIsAQuarterOfTheSmallerMemory() {
    assertThat(InFlightBudget.defaultCapacity(1L << 30, 256L << 20)).isEqualTo(64L << 20);
    assertThat(InFlightBudget.defaultCapacity(256L << 20, 1L << 30)).isEqualTo(64L << 20);
    assertThat(InFlightBudget.defaultCapacity(1L << 30, -1)).isEqualTo(256L << 20);
    assertThat(InFlightBudget.defaultCapacity(8L << 20, 8L << 20)).isEqualTo(4L << 20);
    assertThat(InFlightBudget.ceiling(1L << 30, 64L << 20)).isEqualTo(32L << 20);
    assertThatThrownBy(() -> new InFlightBudget(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
