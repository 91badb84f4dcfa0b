package io.vmpilot.conversation.server.store.error;

/** The disk (or the database's size limit) is full: writes fail until space is freed; reads still work. */
public final class StorageFullException extends StoreException {
  public StorageFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
