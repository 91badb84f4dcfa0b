package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import io.vmpilot.conversation.v1.ConversationServiceProto;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import org.junit.jupiter.api.Test;

/** What reflection serves: every field of the file and of the files it imports carries protoc's json_name. */
class JsonNamedDescriptorsTest {
  @Test
  void theEmbeddedDescriptorsLackJsonNamesAndTheRebuiltOnesHaveThem() {
    FileDescriptor embedded = ConversationServiceProto.getDescriptor();
    assertThat(field(embedded.toProto(), "Conversation", "thread_id").hasJsonName())
        .as("the cause: generated code embeds descriptors without json_name").isFalse();

    FileDescriptorProto rebuilt = JsonNamedDescriptors.fileWithJsonNames(embedded).toProto();
    assertThat(field(rebuilt, "Conversation", "thread_id").getJsonName()).isEqualTo("threadId");
    assertThat(field(rebuilt, "Conversation", "cache_info").getJsonName()).isEqualTo("cacheInfo");
    assertThat(field(rebuilt, "ListRequest", "metadata_filter").getJsonName()).isEqualTo("metadataFilter");
    // Nested types (a map's entry message) and imported files too.
    DescriptorProto entry = message(rebuilt, "Conversation").getNestedTypeList().get(0);
    assertThat(entry.getFieldList()).allSatisfy(f -> assertThat(f.hasJsonName()).isTrue());
    FileDescriptor details = JsonNamedDescriptors.fileWithJsonNames(embedded).getDependencies().stream()
        .filter(d -> d.getName().equals("google/rpc/error_details.proto")).findFirst().orElseThrow();
    assertThat(field(details.toProto(), "BadRequest", "field_violations").getJsonName())
        .isEqualTo("fieldViolations");
  }

  @Test
  void aServiceKeepsItsMethodsAndGetsTheRebuiltFileAsItsSchema() {
    ServerServiceDefinition original = new ConversationServiceGrpc.ConversationServiceImplBase() {}.bindService();
    ServerServiceDefinition named = JsonNamedDescriptors.withJsonNames(original);
    assertThat(named.getServiceDescriptor().getName()).isEqualTo(ConversationServiceGrpc.SERVICE_NAME);
    assertThat(named.getMethods()).hasSameSizeAs(original.getMethods());
    FileDescriptor schema = ((ProtoFileDescriptorSupplier) named.getServiceDescriptor().getSchemaDescriptor())
        .getFileDescriptor();
    assertThat(field(schema.toProto(), "SaveRequest", "thread_id").getJsonName()).isEqualTo("threadId");
    assertThat(schema).isSameAs(JsonNamedDescriptors.fileWithJsonNames(ConversationServiceProto.getDescriptor()));
  }

  private static DescriptorProto message(FileDescriptorProto file, String name) {
    return file.getMessageTypeList().stream().filter(m -> m.getName().equals(name)).findFirst().orElseThrow();
  }

  private static FieldDescriptorProto field(FileDescriptorProto file, String message, String field) {
    return message(file, message).getFieldList().stream().filter(f -> f.getName().equals(field)).findFirst()
        .orElseThrow();
  }
}
