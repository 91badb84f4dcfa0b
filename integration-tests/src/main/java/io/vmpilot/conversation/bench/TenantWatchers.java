package io.vmpilot.conversation.bench;

import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationWatch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watch streams of the benchmark's whole tenant, each drained by a thread of its own, as a UI or a supervisor agent
 * would follow the writes: what watchers cost the writers shows in the workloads measured meanwhile. A watcher
 * that is cut off (too far behind) resumes from the last version it received, as a real one would.
 */
final class TenantWatchers implements AutoCloseable {
  private final List<Thread> threads = new ArrayList<>();
  private final List<ConversationWatch> open = new ArrayList<>();
  private final AtomicLong events = new AtomicLong();
  private final AtomicLong resumes = new AtomicLong();
  private volatile boolean closing;

  TenantWatchers(ConversationClient client, int count) {
    for (int i = 0; i < count; i++) {
      Thread t = new Thread(() -> drain(client), "bench-watcher-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private void drain(ConversationClient client) {
    long last = 0;
    while (!closing) {
      ConversationWatch watch = client.watch("", last);
      synchronized (open) {
        if (closing) {
          watch.close();
          return;
        }
        open.add(watch);
      }
      try {
        while (watch.hasNext()) {
          watch.next();
          events.incrementAndGet();
        }
      } catch (StatusRuntimeException e) {
        if (!closing) {
          resumes.incrementAndGet();
        }
      } finally {
        last = watch.lastVersion();
        synchronized (open) {
          open.remove(watch);
        }
        watch.close();
      }
    }
  }

  long events() {
    return events.get();
  }

  long resumes() {
    return resumes.get();
  }

  @Override
  public void close() throws InterruptedException {
    closing = true;
    synchronized (open) {
      open.forEach(ConversationWatch::close);
    }
    for (Thread t : threads) {
      t.join(10_000);
    }
  }
}
