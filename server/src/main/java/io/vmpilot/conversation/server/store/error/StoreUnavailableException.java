package io.vmpilot.conversation.server.store.error;

/**
 * The storage could not be read or written (I/O error, database locked for too long, store closed). Nothing
 * of the failed operation was committed, so the caller may retry.
 */
public final class StoreUnavailableException extends StoreException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
