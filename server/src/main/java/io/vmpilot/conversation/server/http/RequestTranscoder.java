package io.vmpilot.conversation.server.http;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Builds an RPC's request message from an HTTP request, as the route's rule says: the body (proto3 JSON, both
 * lowerCamelCase and proto field names accepted, unknown fields refused) for {@code body: "*"}, else the query
 * string; then the path's variables. A field the path sets may also be in the body only with the same value.
 */
final class RequestTranscoder {
  private static final JsonFormat.Parser JSON = JsonFormat.parser();

  private RequestTranscoder() {}

  static Message request(Route route, Map<String, String> rawPathVariables, String rawQuery, byte[] body) {
    Message.Builder request = route.requestPrototype().newBuilderForType();
    Set<String> pathFields = new HashSet<>(rawPathVariables.keySet());
    if (route.takesBody()) {
      if (rawQuery != null && !rawQuery.isEmpty()) {
        throw HttpProblem.invalid("query string", "must be empty: this method takes its whole request as a JSON body");
      }
      mergeBody(request, body);
      UnpairedSurrogates.check(request);
    } else {
      QueryParameters.apply(rawQuery, request, pathFields);
    }
    for (Map.Entry<String, String> variable : rawPathVariables.entrySet()) {
      FieldDescriptor field = request.getDescriptorForType().findFieldByName(variable.getKey());
      String value;
      try {
        value = PercentDecoding.pathSegment(variable.getValue());
      } catch (IllegalArgumentException e) {
        throw HttpProblem.invalid(variable.getKey(), "(in the URL path) " + e.getMessage());
      }
      if (request.hasField(field) && !request.getField(field).equals(value)) {
        throw HttpProblem.invalid(field.getName(), "differs between the URL path and the body; give it once");
      }
      request.setField(field, value);
    }
    return request.build();
  }

  private static void mergeBody(Message.Builder request, byte[] body) {
    if (body.length == 0) {
      return;
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body)).toString();
    } catch (CharacterCodingException e) {
      throw HttpProblem.invalid("body", "is not UTF-8");
    }
    try {
      JSON.merge(text, request);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      // JsonFormat reports bad JSON as InvalidProtocolBufferException, some malformed values as other exceptions.
      throw HttpProblem.invalid("body", "is not a " + request.getDescriptorForType().getName()
          + " in proto3 JSON: " + HttpProblem.echo(String.valueOf(e.getMessage())));
    }
  }
}
