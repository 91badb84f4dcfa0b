package io.vmpilot.conversation.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A call the server refused or could not complete: the gRPC status code plus the details the server attached
 * ({@code ErrorInfo} reason and metadata, {@code BadRequest} field violations).
 */
public class ConversationStoreException extends RuntimeException {
  private final Status.Code code;
  private final String reason;
  private final Map<String, String> metadata;
  private final List<BadRequest.FieldViolation> fieldViolations;

  ConversationStoreException(StatusRuntimeException cause, ErrorInfo info, List<BadRequest.FieldViolation> violations) {
    super(cause.getStatus().getCode() + ": " + cause.getStatus().getDescription(), cause);
    this.code = cause.getStatus().getCode();
    this.reason = info == null ? "" : info.getReason();
    this.metadata = info == null ? Map.of() : Map.copyOf(info.getMetadataMap());
    this.fieldViolations = List.copyOf(violations);
  }

  /**
   * Reads the details of a failed call, picking the most specific exception type for it. Useful with the raw
   * generated stubs too.
   */
  public static ConversationStoreException from(StatusRuntimeException e) {
    ErrorInfo info = null;
    List<BadRequest.FieldViolation> violations = new ArrayList<>();
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any detail : status.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            info = detail.unpack(ErrorInfo.class);
          } else if (detail.is(BadRequest.class)) {
            violations.addAll(detail.unpack(BadRequest.class).getFieldViolationsList());
          }
        } catch (InvalidProtocolBufferException ignored) {
          // A detail we cannot read does not hide the status code and message, which we still report.
        }
      }
    }
    if (e.getStatus().getCode() == Status.Code.ABORTED && info != null && "VERSION_MISMATCH".equals(info.getReason())) {
      return new VersionConflictException(e, info);
    }
    return new ConversationStoreException(e, info, violations);
  }

  /** The gRPC status code, e.g. {@code INVALID_ARGUMENT}, {@code ABORTED}, {@code UNAVAILABLE}. */
  public Status.Code code() {
    return code;
  }

  /** The {@code ErrorInfo} reason, e.g. {@code VERSION_MISMATCH}; empty if the server sent none. */
  public String reason() {
    return reason;
  }

  /** The {@code ErrorInfo} metadata, e.g. {@code current_version}. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** For {@code INVALID_ARGUMENT}: each offending field and what is wrong with it. */
  public List<BadRequest.FieldViolation> fieldViolations() {
    return fieldViolations;
  }
}
