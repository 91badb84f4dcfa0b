package io.vmpilot.conversation.server.http;

import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.ErrorDetailsProto;
import com.google.rpc.Status;
import java.io.IOException;

/**
 * The proto3 JSON form of responses and errors. Fields with no presence are printed even when they hold their
 * default ({@code "deleted": false}, {@code "nextPageToken": ""}), as grpc-gateway does, so a client never has to
 * know a field's default to read a response. Error details are printed with their types
 * ({@code "@type": "type.googleapis.com/google.rpc.ErrorInfo"}).
 */
final class ProtoJson {
  private static final JsonFormat.Printer RESPONSES = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();
  private static final JsonFormat.Printer ERRORS = JsonFormat.printer()
      .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
          .add(ErrorDetailsProto.getDescriptor().getMessageTypes())
          .build());

  private ProtoJson() {}

  static void writeResponse(MessageOrBuilder message, Appendable out) throws IOException {
    RESPONSES.appendTo(message, out);
  }

  static String error(Status status) {
    try {
      return ERRORS.print(status);
    } catch (IOException e) {
      // Only a detail of a type missing from the registry gets here; answer without the details rather than not.
      try {
        return ERRORS.print(status.toBuilder().clearDetails().build());
      } catch (IOException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
  }
}
