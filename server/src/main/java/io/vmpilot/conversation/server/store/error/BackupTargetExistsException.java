package io.vmpilot.conversation.server.store.error;

import java.nio.file.Path;

/** A backup would overwrite a file; it never does. */
public final class BackupTargetExistsException extends StoreException {
  public BackupTargetExistsException(Path target) {
    super("the backup target exists: " + target, null);
  }
}
