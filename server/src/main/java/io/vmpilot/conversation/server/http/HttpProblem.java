package io.vmpilot.conversation.server.http;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest.FieldViolation;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import java.util.List;
import java.util.Map;

/**
 * A request refused by the HTTP side itself, before any RPC: no route, a query parameter or body that does not
 * fit the request message, a body over the size limit, a request from another web site. Carries the
 * {@code google.rpc.Status} to answer with, in the service's own form (ErrorInfo of the same domain, BadRequest
 * for invalid arguments), so a client handles it like any other error.
 */
final class HttpProblem extends RuntimeException {
  /** The ErrorInfo domain of every error of the service (the gRPC side's {@code ErrorMapper.DOMAIN}). */
  static final String DOMAIN = "conversation.vmpilot.io";
  /** Longest piece of a request echoed in an error message. */
  private static final int ECHO_LIMIT = 120;

  private final transient Status status;
  private final int httpStatus;
  private final transient List<String> allow;

  private HttpProblem(Status status, int httpStatus, List<String> allow) {
    super(status.getMessage());
    this.status = status;
    this.httpStatus = httpStatus;
    this.allow = allow;
  }

  Status status() {
    return status;
  }

  /** The HTTP status: the code's own, except 405 for a path served under other methods. */
  int httpStatus() {
    return httpStatus;
  }

  /** The methods the path is served under (the {@code Allow} header of a 405), else empty. */
  List<String> allow() {
    return allow;
  }

  static HttpProblem invalid(String field, String description) {
    return invalid(List.of(FieldViolation.newBuilder().setField(field).setDescription(description).build()));
  }

  static HttpProblem invalid(List<FieldViolation> violations) {
    StringBuilder message = new StringBuilder("invalid request: ");
    for (int i = 0; i < violations.size() && i < 3; i++) {
      message.append(i == 0 ? "" : "; ").append(violations.get(i).getField()).append(' ')
          .append(violations.get(i).getDescription());
    }
    if (violations.size() > 3) {
      message.append("; and ").append(violations.size() - 3).append(" more");
    }
    Status status = base(Code.INVALID_ARGUMENT, message.toString(), "INVALID_ARGUMENT", Map.of())
        .addDetails(Any.pack(BadRequest.newBuilder().addAllFieldViolations(violations).build()))
        .build();
    return new HttpProblem(status, HttpStatusCodes.of(Code.INVALID_ARGUMENT), List.of());
  }

  static HttpProblem tooLarge(long limitBytes) {
    return of(Code.RESOURCE_EXHAUSTED, "the request body is larger than the limit of " + limitBytes
        + " bytes (--max-inbound-message-bytes)", "REQUEST_TOO_LARGE", Map.of("limit_bytes", Long.toString(limitBytes)));
  }

  static HttpProblem noRoute(String method, String rawPath) {
    return of(Code.NOT_FOUND, "no route for " + echo(method) + " " + echo(rawPath)
        + " (the API is under /v1/conversations; see the proto's google.api.http rules)", "NO_SUCH_ROUTE", Map.of());
  }

  static HttpProblem methodNotAllowed(String method, String rawPath, List<String> allowed) {
    Status status = base(Code.UNIMPLEMENTED, echo(rawPath) + " does not take " + echo(method) + "; it takes "
        + String.join(", ", allowed), "METHOD_NOT_ALLOWED", Map.of("allow", String.join(",", allowed))).build();
    return new HttpProblem(status, 405, List.copyOf(allowed));
  }

  static HttpProblem crossSite(String why) {
    return of(Code.PERMISSION_DENIED, why, "CROSS_SITE_REQUEST", Map.of());
  }

  private static HttpProblem of(Code code, String message, String reason, Map<String, String> metadata) {
    return new HttpProblem(base(code, message, reason, metadata).build(), HttpStatusCodes.of(code), List.of());
  }

  private static Status.Builder base(Code code, String message, String reason, Map<String, String> metadata) {
    return Status.newBuilder().setCode(code.getNumber()).setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason).putAllMetadata(metadata)
            .build()));
  }

  /** {@code s} cut to a length fit for an error message. */
  static String echo(String s) {
    return s.length() <= ECHO_LIMIT ? s : s.substring(0, ECHO_LIMIT) + "... (" + s.length() + " characters)";
  }
}
