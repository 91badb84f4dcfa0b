package io.vmpilot.conversation.client;

import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.v1.WatchResponse;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The changes streamed by Watch, as an iterator that blocks until the next one is committed. The stream has no
 * deadline and does not end by itself: {@link #close} it (from any thread) when done. A failure (the server
 * stopping: {@code UNAVAILABLE}; {@code OUT_OF_RANGE} when the change log no longer reaches back to the start
 * version; {@code RESOURCE_EXHAUSTED} for a watcher too slow) is thrown by {@link #hasNext} or {@link #next} as a
 * {@link ConversationStoreException}; to go on, watch again from {@link #lastVersion()}, which misses nothing and
 * repeats nothing.
 */
public final class ConversationWatch implements Iterator<WatchResponse>, AutoCloseable {
  private final Context.CancellableContext context;
  private final Iterator<WatchResponse> events;
  private long lastVersion;

  ConversationWatch(Context.CancellableContext context, Iterator<WatchResponse> events, long startVersion) {
    this.context = context;
    this.events = events;
    this.lastVersion = startVersion;
  }

  /** The version of the last change returned (the start version before the first): where to resume. */
  public long lastVersion() {
    return lastVersion;
  }

  @Override
  public boolean hasNext() {
    try {
      return events.hasNext();
    } catch (StatusRuntimeException e) {
      throw ConversationStoreException.from(e);
    }
  }

  @Override
  public WatchResponse next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    WatchResponse e = events.next();
    lastVersion = e.getVersion();
    return e;
  }

  /** Cancels the stream. */
  @Override
  public void close() {
    context.cancel(null);
  }
}
