package io.vmpilot.conversation.server.store.error;

import java.nio.file.Path;

/**
 * A backup would be written outside the directory backups are confined to ({@code [backup] directory}): the
 * server writes with its own permissions, so a caller may not choose where on its machine a copy of every tenant's
 * conversations lands.
 */
public final class BackupOutsideDirectoryException extends StoreException {
  public BackupOutsideDirectoryException(Path target, Path directory) {
    super("the backup target " + target + " is outside the backup directory " + directory
        + " (set [backup] directory to allow another)", null);
  }
}
