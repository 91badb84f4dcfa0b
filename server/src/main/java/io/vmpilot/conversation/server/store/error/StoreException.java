package io.vmpilot.conversation.server.store.error;

/** Base of everything a store throws on purpose; the service layer maps each kind to a gRPC status. */
public abstract class StoreException extends RuntimeException {
  protected StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
