package io.vmpilot.conversation.server.grpc;

import com.google.rpc.BadRequest.FieldViolation;
import java.util.List;

/** A request broke the contract; carries one violation per offending field. */
final class InvalidRequestException extends RuntimeException {
  private final List<FieldViolation> violations;

  InvalidRequestException(List<FieldViolation> violations) {
    super(summary(violations));
    this.violations = List.copyOf(violations);
  }

  List<FieldViolation> violations() {
    return violations;
  }

  private static String summary(List<FieldViolation> violations) {
    StringBuilder s = new StringBuilder("invalid request: ");
    for (int i = 0; i < violations.size(); i++) {
      if (i == 3) {
        s.append("; and ").append(violations.size() - 3).append(" more");
        break;
      }
      FieldViolation v = violations.get(i);
      s.append(i == 0 ? "" : "; ").append(v.getField()).append(' ').append(v.getDescription());
    }
    return s.toString();
  }
}
