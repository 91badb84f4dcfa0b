package io.vmpilot.conversation.server.http;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.MessageOrBuilder;
import com.google.rpc.BadRequest.FieldViolation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Refuses text that is not Unicode: a JSON body may write half of a surrogate pair as an escape
 * ({@code "\ud800"}), which JSON parsers accept but which no UTF-8 byte sequence can hold. Over gRPC such a
 * string cannot arrive at all (protobuf checks that strings are UTF-8); left alone here, it would reach the store
 * as a Java string that is silently changed to {@code ?} when encoded, so a message would not come back as sent.
 */
final class UnpairedSurrogates {
  private UnpairedSurrogates() {}

  static void check(MessageOrBuilder request) {
    List<FieldViolation> violations = new ArrayList<>();
    walk(request, "", violations);
    if (!violations.isEmpty()) {
      throw HttpProblem.invalid(violations);
    }
  }

  private static void walk(MessageOrBuilder message, String prefix, List<FieldViolation> violations) {
    for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
      FieldDescriptor field = e.getKey();
      String name = prefix + field.getName();
      if (field.isMapField()) {
        for (Object entry : (List<?>) e.getValue()) {
          MapEntry<?, ?> m = (MapEntry<?, ?>) entry;
          String entryName = name + "[" + HttpProblem.echo(String.valueOf(m.getKey())) + "]";
          value(m.getKey(), entryName + " (its key)", violations);
          value(m.getValue(), entryName, violations);
        }
      } else if (field.isRepeated()) {
        List<?> values = (List<?>) e.getValue();
        for (int i = 0; i < values.size(); i++) {
          value(values.get(i), name + "[" + i + "]", violations);
        }
      } else {
        value(e.getValue(), name, violations);
      }
    }
  }

  private static void value(Object value, String name, List<FieldViolation> violations) {
    if (value instanceof MessageOrBuilder nested) {
      walk(nested, name + ".", violations);
    } else if (value instanceof String s && hasUnpairedSurrogate(s)) {
      violations.add(FieldViolation.newBuilder().setField(name)
          .setDescription("holds half of a UTF-16 surrogate pair (an escape such as \\ud800 without its other half),"
              + " which is not Unicode text").build());
    }
  }

  static boolean hasUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }
}
