package io.vmpilot.conversation.server.grpc;

import com.google.rpc.BadRequest.FieldViolation;
import java.util.ArrayList;
import java.util.List;

/**
 * A request broke the contract; carries one violation per offending field, up to a bound, and as the last one a
 * note of how many more there were.
 */
final class InvalidRequestException extends RuntimeException {
  private final List<FieldViolation> violations;

  /** @param total how many violations the request had; those beyond {@code listed} are counted in a last entry */
  InvalidRequestException(List<FieldViolation> listed, int total) {
    super(summary(listed, total));
    List<FieldViolation> all = new ArrayList<>(listed);
    if (total > listed.size()) {
      all.add(FieldViolation.newBuilder().setField("")
          .setDescription("and " + (total - listed.size()) + " more violations, not listed").build());
    }
    this.violations = List.copyOf(all);
  }

  List<FieldViolation> violations() {
    return violations;
  }

  private static String summary(List<FieldViolation> violations, int total) {
    StringBuilder s = new StringBuilder("invalid request: ");
    for (int i = 0; i < violations.size(); i++) {
      if (i == 3) {
        s.append("; and ").append(total - 3).append(" more");
        break;
      }
      FieldViolation v = violations.get(i);
      s.append(i == 0 ? "" : "; ").append(v.getField()).append(' ').append(v.getDescription());
    }
    return s.toString();
  }
}
