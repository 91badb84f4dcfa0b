package io.vmpilot.conversation.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.api.ErrorDomain;
import io.vmpilot.conversation.server.store.error.BackupNotSupportedException;
import io.vmpilot.conversation.server.store.error.BackupOutsideDirectoryException;
import io.vmpilot.conversation.server.store.error.BackupTargetExistsException;
import io.vmpilot.conversation.server.store.error.ConversationExistsException;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.PositionOutOfRangeException;
import io.vmpilot.conversation.server.store.error.SearchIndexOffException;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns whatever an RPC threw into a gRPC status with {@code google.rpc.ErrorInfo} (and {@code BadRequest} for
 * invalid arguments), as AIP-193 describes. Server-side faults are logged with the RPC and thread id; the
 * caller's mistakes are not.
 */
final class ErrorMapper {
  private static final Logger LOG = Logger.getLogger(ErrorMapper.class.getName());

  StatusRuntimeException toStatus(String rpc, String threadId, Throwable error) {
    if (error instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (error instanceof InvalidRequestException e) {
      return status(Code.INVALID_ARGUMENT, e.getMessage(), "INVALID_ARGUMENT", Map.of(),
          BadRequest.newBuilder().addAllFieldViolations(e.violations()).build());
    }
    if (error instanceof ConversationNotFoundException e) {
      return status(Code.NOT_FOUND, e.getMessage(), "CONVERSATION_NOT_FOUND",
          Map.of("thread_id", e.key().threadId()), null);
    }
    if (error instanceof ConversationExistsException e) {
      return status(Code.ALREADY_EXISTS, e.getMessage(), "CONVERSATION_EXISTS",
          Map.of("thread_id", e.key().threadId()), null);
    }
    if (error instanceof PositionOutOfRangeException e) {
      // Only Fork's end_position can be out of range today; the field is named so a client can point at it.
      return status(Code.OUT_OF_RANGE, e.getMessage(), "POSITION_OUT_OF_RANGE", Map.of(
          "thread_id", e.key().threadId(),
          "end_position", Long.toString(e.position()),
          "message_count", Long.toString(e.messageCount())),
          BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
              .setField("end_position")
              .setDescription("is " + e.position() + "; the conversation has " + e.messageCount() + " messages"))
              .build());
    }
    if (error instanceof BackupNotSupportedException e) {
      return status(Code.FAILED_PRECONDITION, e.getMessage(), "BACKUP_NOT_SUPPORTED", Map.of(), null);
    }
    if (error instanceof SearchIndexOffException e) {
      return status(Code.FAILED_PRECONDITION, e.getMessage(), "SEARCH_INDEX_OFF", Map.of(), null);
    }
    if (error instanceof BackupOutsideDirectoryException e) {
      return status(Code.PERMISSION_DENIED, e.getMessage(), "BACKUP_OUTSIDE_DIRECTORY", Map.of(), null);
    }
    if (error instanceof BackupTargetExistsException e) {
      return status(Code.ALREADY_EXISTS, e.getMessage(), "BACKUP_TARGET_EXISTS", Map.of(), null);
    }
    if (error instanceof VersionMismatchException e) {
      return status(Code.ABORTED, e.getMessage(), "VERSION_MISMATCH", Map.of(
          "thread_id", threadId,
          "current_version", Long.toString(e.currentVersion()),
          "expected_version", Long.toString(e.expectedVersion())), null);
    }
    if (error instanceof HistoryTooLargeException e) {
      return status(Code.RESOURCE_EXHAUSTED, e.getMessage(), "HISTORY_TOO_LARGE", Map.of(
          "thread_id", threadId,
          "limit_bytes", Long.toString(e.limitBytes()),
          "resulting_bytes", Long.toString(e.resultingBytes())), null);
    }
    if (error instanceof TenantConversationLimitException e) {
      return status(Code.RESOURCE_EXHAUSTED, e.getMessage(), "TENANT_CONVERSATION_LIMIT", Map.of(
          "thread_id", threadId,
          "tenant", e.key().tenant(),
          "limit", Long.toString(e.limit())), null);
    }
    if (error instanceof ChangeLogPrunedException e) {
      return status(Code.OUT_OF_RANGE, e.getMessage(), "CHANGE_LOG_PRUNED", Map.of(
          "start_version", Long.toString(e.afterVersion()),
          "pruned_through_version", Long.toString(e.prunedThroughVersion())), null);
    }
    if (error instanceof StorageFullException e) {
      LOG.log(Level.WARNING, rpc + " thread_id=" + quoted(threadId) + " failed: storage full", e);
      return status(Code.RESOURCE_EXHAUSTED, e.getMessage(), "STORAGE_FULL", Map.of(), null);
    }
    if (error instanceof StoreUnavailableException e) {
      LOG.log(Level.WARNING, rpc + " thread_id=" + quoted(threadId) + " failed: storage unavailable", e);
      return status(Code.UNAVAILABLE, e.getMessage(), "STORE_UNAVAILABLE", Map.of(), null);
    }
    if (error instanceof CorruptStoredMessageException e) {
      LOG.log(Level.SEVERE, rpc + " thread_id=" + quoted(threadId) + " failed: " + e.getMessage());
      return status(Code.DATA_LOSS, e.getMessage(), "STORED_MESSAGE_CORRUPT", Map.of(
          "thread_id", threadId,
          "position", Long.toString(e.position())), null);
    }
    if (error instanceof OutOfMemoryError) {
      LOG.log(Level.SEVERE, rpc + " thread_id=" + quoted(threadId) + " failed: the server is out of memory", error);
      return status(Code.RESOURCE_EXHAUSTED, "the server is out of memory; raise its heap (-Xmx)", "OUT_OF_MEMORY",
          Map.of(), null);
    }
    LOG.log(Level.SEVERE, rpc + " thread_id=" + quoted(threadId) + " failed unexpectedly", error);
    return status(Code.INTERNAL, "internal error: " + error, "INTERNAL", Map.of(), null);
  }

  /**
   * A request over {@code --max-inbound-message-bytes} that grpc-java did not refuse itself (a compressed one,
   * found too large while decompressing): RESOURCE_EXHAUSTED as grpc-java answers an uncompressed one, with a reason.
   */
  static StatusRuntimeException requestTooLarge(String description) {
    return status(Code.RESOURCE_EXHAUSTED, "request too large: " + description, "REQUEST_TOO_LARGE", Map.of(), null);
  }

  /** A watcher cut off for falling more than {@code maxLagEvents} changes behind. */
  StatusRuntimeException watcherTooSlow(int maxLagEvents, long lastVersionSent) {
    return status(Code.RESOURCE_EXHAUSTED, "the watcher fell more than " + maxLagEvents + " changes behind; watch"
        + " again from version " + lastVersionSent, "WATCHER_TOO_SLOW",
        Map.of("max_lag_events", Integer.toString(maxLagEvents)), null);
  }

  /** A watch ended because the server is stopping. */
  StatusRuntimeException watchEndedByShutdown(long lastVersionSent) {
    return status(Code.UNAVAILABLE, "the server is shutting down; watch again from version " + lastVersionSent,
        "SERVER_SHUTTING_DOWN", Map.of(), null);
  }

  static StatusRuntimeException status(Code code, String message, String reason, Map<String, String> metadata,
      BadRequest badRequest) {
    com.google.rpc.Status.Builder status = withErrorInfo(code, message, reason, metadata);
    if (badRequest != null) {
      status.addDetails(Any.pack(badRequest));
    }
    return code == Code.RESOURCE_EXHAUSTED
        ? StatusProto.toStatusRuntimeException(status.build(), pushback(NOT_AGAIN_MS))
        : StatusProto.toStatusRuntimeException(status.build());
  }

  /**
   * The pushback of a RESOURCE_EXHAUSTED that asking again will not change (a history or tenant limit, a full
   * store, a request too large, a watcher too slow; a heap exhausted mid-call, whose write may have been under
   * way): negative, which tells a gRPC retry policy not to retry even when it names RESOURCE_EXHAUSTED (gRFC A6;
   * grpc-java and gRPC's C core, which the Python package runs on, honour it). A client can then list
   * RESOURCE_EXHAUSTED to wait out the refusals that do carry a delay ({@link #retryLater}) without repeating the
   * ones that cannot pass.
   */
  static final long NOT_AGAIN_MS = -1;

  private static Metadata pushback(long millis) {
    Metadata trailers = new Metadata();
    trailers.put(RETRY_PUSHBACK_MS, Long.toString(millis));
    return trailers;
  }

  /** The trailer that gRPC clients' retry policies wait by instead of their own backoff (gRFC A6), in ms. */
  static final Metadata.Key<String> RETRY_PUSHBACK_MS =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * {@link #status} for a refusal of a call that did nothing and will likely pass later (the server is busy, not
   * the request wrong): with a {@code google.rpc.RetryInfo} detail and the {@code grpc-retry-pushback-ms} trailer,
   * both {@code retryDelay}. A client whose retry policy names the code waits that long rather than its own
   * backoff, so that refused clients come back when there may be room instead of at once.
   */
  static StatusRuntimeException retryLater(Code code, String message, String reason, Map<String, String> metadata,
      Duration retryDelay) {
    com.google.rpc.Status status = withErrorInfo(code, message, reason, metadata)
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
            .setSeconds(retryDelay.getSeconds()).setNanos(retryDelay.getNano())).build()))
        .build();
    return StatusProto.toStatusRuntimeException(status, pushback(retryDelay.toMillis()));
  }

  private static com.google.rpc.Status.Builder withErrorInfo(Code code, String message, String reason,
      Map<String, String> metadata) {
    return com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder()
            .setReason(reason)
            .setDomain(ErrorDomain.NAME)
            .putAllMetadata(metadata)
            .build()));
  }

  private static String quoted(String s) {
    return '"' + s.replace("\"", "\\\"") + '"';
  }
}
