package io.vmpilot.conversation.client;

import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import java.util.List;

/**
 * An {@code expected_version} did not match: someone else changed the conversation first. Read it again, redo
 * the change and retry with {@link #currentVersion()} (the client never retries these by itself).
 */
public final class VersionConflictException extends ConversationStoreException {
  private final long currentVersion;

  VersionConflictException(StatusRuntimeException cause, ErrorInfo info) {
    super(cause, info, List.of());
    long parsed;
    try {
      parsed = Long.parseLong(info.getMetadataOrDefault("current_version", "-1"));
    } catch (NumberFormatException e) {
      parsed = -1;
    }
    this.currentVersion = parsed;
  }

  /** The conversation's version when the call was refused (0 if it does not exist, -1 if unknown). */
  public long currentVersion() {
    return currentVersion;
  }
}
