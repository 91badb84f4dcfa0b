package io.vmpilot.conversation.server.store.error;

/** Search was asked of a store that keeps no search index ({@code [search] index = false}). */
public final class SearchIndexOffException extends StoreException {
  public SearchIndexOffException() {
    super("search is off on this server ([search] index = false): it keeps no index of message text", null);
  }
}
