package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.error.BackupNotSupportedException;
import io.vmpilot.conversation.server.store.error.BackupTargetExistsException;
import io.vmpilot.conversation.server.store.error.ConversationExistsException;
import io.vmpilot.conversation.server.store.error.ConversationNotFoundException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.StorageFullException;
import io.vmpilot.conversation.server.store.error.StoreUnavailableException;
import io.vmpilot.conversation.server.store.error.VersionMismatchException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every failure becomes a canonical code with an ErrorInfo in the service's domain (AIP-193). */
class ErrorMapperTest {
  private final ErrorMapper mapper = new ErrorMapper();
  private final Logger logger = Logger.getLogger(ErrorMapper.class.getName());
  private Level level;

  @BeforeEach
  void quiet() {
    // Server faults are logged on purpose; keep the test output readable.
    level = logger.getLevel();
    logger.setLevel(Level.OFF);
  }

  @AfterEach
  void restore() {
    logger.setLevel(level);
  }

  private com.google.rpc.Status map(Throwable error) {
    StatusRuntimeException e = mapper.toStatus("Save", "t-1", error);
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).isNotNull();
    assertThat(status.getCode()).isEqualTo(e.getStatus().getCode().value());
    return status;
  }

  private static ErrorInfo info(com.google.rpc.Status status) throws InvalidProtocolBufferException {
    assertThat(status.getDetails(0).is(ErrorInfo.class)).isTrue();
    ErrorInfo info = status.getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getDomain()).isEqualTo("conversation.vmpilot.io");
    assertThat(info.getReason()).matches("[A-Z][A-Z0-9_]*[A-Z0-9]");
    return info;
  }

  @Test
  void importAndBackupFailuresMapToTheirCodes() throws Exception {
    com.google.rpc.Status exists = map(new ConversationExistsException(ThreadKey.of("t-1"), "test"));
    assertThat(exists.getCode()).isEqualTo(Code.ALREADY_EXISTS_VALUE);
    assertThat(info(exists).getReason()).isEqualTo("CONVERSATION_EXISTS");
    assertThat(info(exists).getMetadataMap()).containsEntry("thread_id", "t-1");
    com.google.rpc.Status unsupported = map(new BackupNotSupportedException("memory"));
    assertThat(unsupported.getCode()).isEqualTo(Code.FAILED_PRECONDITION_VALUE);
    assertThat(info(unsupported).getReason()).isEqualTo("BACKUP_NOT_SUPPORTED");
    com.google.rpc.Status target = map(new BackupTargetExistsException(java.nio.file.Path.of("/tmp/x.db")));
    assertThat(target.getCode()).isEqualTo(Code.ALREADY_EXISTS_VALUE);
    assertThat(info(target).getReason()).isEqualTo("BACKUP_TARGET_EXISTS");
  }

  @Test
  void storeFailuresMapToTheirCodes() throws Exception {
    ThreadKey k = ThreadKey.of("t-1");

    com.google.rpc.Status notFound = map(new ConversationNotFoundException(k));
    assertThat(notFound.getCode()).isEqualTo(Code.NOT_FOUND_VALUE);
    assertThat(info(notFound).getReason()).isEqualTo("CONVERSATION_NOT_FOUND");
    assertThat(info(notFound).getMetadataMap()).containsEntry("thread_id", "t-1");

    com.google.rpc.Status mismatch = map(new VersionMismatchException(k, 3, 9));
    assertThat(mismatch.getCode()).isEqualTo(Code.ABORTED_VALUE);
    assertThat(info(mismatch).getReason()).isEqualTo("VERSION_MISMATCH");
    assertThat(info(mismatch).getMetadataMap())
        .containsEntry("current_version", "9").containsEntry("expected_version", "3");

    com.google.rpc.Status tooLarge = map(new HistoryTooLargeException(k, 100, 150));
    assertThat(tooLarge.getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED_VALUE);
    assertThat(info(tooLarge).getReason()).isEqualTo("HISTORY_TOO_LARGE");
    assertThat(info(tooLarge).getMetadataMap())
        .containsEntry("limit_bytes", "100").containsEntry("resulting_bytes", "150");

    com.google.rpc.Status full = map(new StorageFullException("disk full", null));
    assertThat(full.getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED_VALUE);
    assertThat(info(full).getReason()).isEqualTo("STORAGE_FULL");

    com.google.rpc.Status unavailable = map(new StoreUnavailableException("locked", null));
    assertThat(unavailable.getCode()).isEqualTo(Code.UNAVAILABLE_VALUE);
    info(unavailable);
  }

  @Test
  void refusalsThatAskingAgainCannotChangeTellRetryPoliciesNotToRetry() {
    ThreadKey k = ThreadKey.of("t-1");
    for (RuntimeException refusal : java.util.List.of(new HistoryTooLargeException(k, 100, 150),
        new StorageFullException("disk full", null))) {
      StatusRuntimeException e = mapper.toStatus("Save", "t-1", refusal);
      assertThat(e.getTrailers().get(ErrorMapper.RETRY_PUSHBACK_MS)).as(refusal.toString()).isEqualTo("-1");
    }
    assertThat(ErrorMapper.requestTooLarge("too big").getTrailers().get(ErrorMapper.RETRY_PUSHBACK_MS))
        .isEqualTo("-1");
    StatusRuntimeException unavailable = mapper.toStatus("Save", "t-1", new StoreUnavailableException("x", null));
    assertThat(unavailable.getTrailers() == null ? null : unavailable.getTrailers().get(ErrorMapper.RETRY_PUSHBACK_MS))
        .as("UNAVAILABLE is left to the client's policy").isNull();
    StatusRuntimeException busy = ErrorMapper.retryLater(Code.RESOURCE_EXHAUSTED, "busy", "IN_FLIGHT_LIMIT",
        java.util.Map.of(), java.time.Duration.ofMillis(700));
    assertThat(busy.getTrailers().get(ErrorMapper.RETRY_PUSHBACK_MS)).isEqualTo("700");
  }

  @Test
  void invalidArgumentsCarryBadRequest() throws Exception {
    com.google.rpc.Status status = map(RequestValidator.invalid("thread_id", "is required"));
    assertThat(status.getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
    assertThat(info(status).getReason()).isEqualTo("INVALID_ARGUMENT");
    BadRequest bad = status.getDetailsList().stream().filter(d -> d.is(BadRequest.class)).findFirst()
        .orElseThrow().unpack(BadRequest.class);
    assertThat(bad.getFieldViolationsList()).singleElement().satisfies(v -> {
      assertThat(v.getField()).isEqualTo("thread_id");
      assertThat(v.getDescription()).isEqualTo("is required");
    });
  }

  @Test
  void unexpectedFaultsAreInternalAndStatusExceptionsPassThrough() throws Exception {
    com.google.rpc.Status internal = map(new NullPointerException("oops"));
    assertThat(internal.getCode()).isEqualTo(Code.INTERNAL_VALUE);
    assertThat(info(internal).getReason()).isEqualTo("INTERNAL");

    StatusRuntimeException given = Status.CANCELLED.asRuntimeException();
    assertThat(mapper.toStatus("Get", "t", given)).isSameAs(given);
  }

  @Test
  void anOutOfMemoryErrorIsAnsweredAsResourceExhausted() throws Exception {
    com.google.rpc.Status status = map(new OutOfMemoryError("Java heap space"));
    assertThat(status.getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED_VALUE);
    assertThat(info(status).getReason()).isEqualTo("OUT_OF_MEMORY");
  }
}
