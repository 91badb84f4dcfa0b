package io.vmpilot.conversation.server.http;

import com.google.protobuf.Descriptors.FieldDescriptor.JavaType;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest.FieldViolation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Sets a request message's fields from a query string, as grpc-gateway and Envoy's transcoder do: each
 * parameter names a field by its proto name or JSON name ({@code max_messages} or {@code maxMessages}); a map
 * entry is {@code field[key]=value}; a repeated field takes the parameter once per value. Only scalar and
 * map-of-scalar fields can be set this way (this API's queries need no more). Every parameter that does not fit
 * is reported, all at once, as a BadRequest field violation.
 */
final class QueryParameters {
  private QueryParameters() {}

  /** One name=value pair, still percent-encoded. */
  private record Pair(String rawName, String rawValue) {}

  /**
   * Applies {@code rawQuery} (null for none) to {@code request}; {@code pathFields} are set by the path and may
   * not be repeated here.
   */
  static void apply(String rawQuery, Message.Builder request, Set<String> pathFields) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return;
    }
    List<FieldViolation> violations = new ArrayList<>();
    Set<String> seenSingular = new HashSet<>();
    for (Pair pair : split(rawQuery)) {
      String name;
      String value;
      try {
        name = PercentDecoding.queryPart(pair.rawName());
      } catch (IllegalArgumentException e) {
        violations.add(violation(HttpProblem.echo(pair.rawName()), "(a query parameter's name) " + e.getMessage()));
        continue;
      }
      try {
        value = PercentDecoding.queryPart(pair.rawValue());
      } catch (IllegalArgumentException e) {
        violations.add(violation(name, e.getMessage()));
        continue;
      }
      String fieldName = name;
      String mapKey = null;
      int bracket = name.indexOf('[');
      if (bracket > 0 && name.endsWith("]")) {
        fieldName = name.substring(0, bracket);
        mapKey = name.substring(bracket + 1, name.length() - 1);
      }
      FieldDescriptor field = field(request, fieldName);
      if (field == null) {
        violations.add(violation(HttpProblem.echo(name), "is not a field of " + request.getDescriptorForType().getName()
            + " that a query parameter can set"));
        continue;
      }
      if (pathFields.contains(field.getName())) {
        violations.add(violation(field.getName(), "is given by the URL path, not the query string"));
        continue;
      }
      String problem = field.isMapField()
          ? putMapEntry(request, field, mapKey, value)
          : mapKey != null ? "is not a map; leave out the [key]" : setScalar(request, field, value, seenSingular);
      if (problem != null) {
        violations.add(violation(HttpProblem.echo(name), problem));
      }
    }
    if (!violations.isEmpty()) {
      throw HttpProblem.invalid(violations);
    }
  }

  private static List<Pair> split(String rawQuery) {
    List<Pair> pairs = new ArrayList<>();
    for (String part : rawQuery.split("&")) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      pairs.add(eq < 0 ? new Pair(part, "") : new Pair(part.substring(0, eq), part.substring(eq + 1)));
    }
    return pairs;
  }

  private static FieldDescriptor field(Message.Builder request, String name) {
    for (FieldDescriptor f : request.getDescriptorForType().getFields()) {
      if (f.getName().equals(name) || f.getJsonName().equals(name)) {
        return f;
      }
    }
    return null;
  }

  private static String putMapEntry(Message.Builder request, FieldDescriptor field, String key, String value) {
    if (key == null) {
      return "is a map: give each entry as " + field.getJsonName() + "[KEY]=VALUE";
    }
    FieldDescriptor keyField = field.getMessageType().findFieldByName("key");
    FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
    if (keyField.getJavaType() != JavaType.STRING || valueField.getJavaType() == JavaType.MESSAGE) {
      return "cannot be set from a query string";
    }
    Object parsed;
    try {
      parsed = scalar(valueField, value);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    Message.Builder entry = request.newBuilderForField(field);
    entry.setField(keyField, key);
    entry.setField(valueField, parsed);
    request.addRepeatedField(field, entry.build());
    return null;
  }

  private static String setScalar(Message.Builder request, FieldDescriptor field, String value, Set<String> seen) {
    if (field.getJavaType() == JavaType.MESSAGE) {
      return "cannot be set from a query string";
    }
    Object parsed;
    try {
      parsed = scalar(field, value);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    if (field.isRepeated()) {
      request.addRepeatedField(field, parsed);
    } else if (!seen.add(field.getName())) {
      return "is given more than once";
    } else {
      request.setField(field, parsed);
    }
    return null;
  }

  private static Object scalar(FieldDescriptor field, String value) {
    try {
      return switch (field.getJavaType()) {
        case STRING -> value;
        case INT -> field.getType() == FieldDescriptor.Type.UINT32 || field.getType() == FieldDescriptor.Type.FIXED32
            ? Integer.parseUnsignedInt(value) : Integer.parseInt(value);
        case LONG -> field.getType() == FieldDescriptor.Type.UINT64 || field.getType() == FieldDescriptor.Type.FIXED64
            ? Long.parseUnsignedLong(value) : Long.parseLong(value);
        case BOOLEAN -> switch (value) {
          case "true" -> true;
          case "false" -> false;
          default -> throw new IllegalArgumentException("must be true or false, not '" + HttpProblem.echo(value) + "'");
        };
        case DOUBLE -> Double.parseDouble(value);
        case FLOAT -> Float.parseFloat(value);
        case ENUM -> {
          var e = field.getEnumType().findValueByName(value);
          if (e == null) {
            throw new IllegalArgumentException("is not a value of " + field.getEnumType().getName());
          }
          yield e;
        }
        case BYTE_STRING, MESSAGE -> throw new IllegalArgumentException("cannot be set from a query string");
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be a " + field.getType().name().toLowerCase() + " number, not '"
          + HttpProblem.echo(value) + "'");
    }
  }

  private static FieldViolation violation(String field, String description) {
    return FieldViolation.newBuilder().setField(field).setDescription(description).build();
  }
}
