package io.vmpilot.conversation.server.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.api.ErrorDomain;
import io.vmpilot.conversation.server.store.error.ChangeLogPrunedException;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
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

  private static StatusRuntimeException status(Code code, String message, String reason, Map<String, String> metadata,
      BadRequest badRequest) {
    com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder()
            .setReason(reason)
            .setDomain(ErrorDomain.NAME)
            .putAllMetadata(metadata)
            .build()));
    if (badRequest != null) {
      status.addDetails(Any.pack(badRequest));
    }
    return StatusProto.toStatusRuntimeException(status.build());
  }

  private static String quoted(String s) {
    return '"' + s.replace("\"", "\\\"") + '"';
  }
}
