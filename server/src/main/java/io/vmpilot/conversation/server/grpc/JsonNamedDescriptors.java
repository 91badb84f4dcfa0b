package io.vmpilot.conversation.server.grpc;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The descriptors server reflection serves, with every field's {@code json_name} filled in as protoc fills it.
 *
 * <p>Why: the descriptors embedded in generated Java code are stripped of {@code json_name}, and grpc-java's
 * reflection serves them as they are. A client that prints JSON from reflected descriptors (grpcurl, grpcui,
 * Postman) then falls back to the proto field names ({@code thread_id}) where the proto3 JSON mapping, the same
 * client with {@code -proto}, and every Go or Python server print {@code threadId}. Each file is rebuilt once, its
 * dependencies first, with the names Java's own {@link FieldDescriptor#getJsonName()} computes (protoc's rule:
 * drop each underscore and capitalize the letter after it), and reflection reaches the rebuilt files through the
 * service definitions' schema descriptors, which is where it looks for them.
 */
final class JsonNamedDescriptors {
  // By file name: every service importing a file shares one rebuilt copy, as reflection expects of one file.
  private static final Map<String, FileDescriptor> REBUILT = new ConcurrentHashMap<>();

  private JsonNamedDescriptors() {}

  /**
   * {@code service} with the same methods and handlers, whose schema descriptor gives reflection the rebuilt file;
   * a service without a protobuf schema is returned as it is.
   */
  static ServerServiceDefinition withJsonNames(ServerServiceDefinition service) {
    io.grpc.ServiceDescriptor original = service.getServiceDescriptor();
    if (!(original.getSchemaDescriptor() instanceof ProtoFileDescriptorSupplier supplier)) {
      return service;
    }
    FileDescriptor file = fileWithJsonNames(supplier.getFileDescriptor());
    String simpleName = original.getName().substring(original.getName().lastIndexOf('.') + 1);
    ServiceDescriptor protoService = file.findServiceByName(simpleName);
    io.grpc.ServiceDescriptor.Builder descriptor = io.grpc.ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(new Schema(file, protoService));
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      descriptor.addMethod(method.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder rebuilt = ServerServiceDefinition.builder(descriptor.build());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      rebuilt.addMethod(method);
    }
    return rebuilt.build();
  }

  /** {@code file} rebuilt with {@code json_name} on every field, over its dependencies rebuilt likewise. */
  static FileDescriptor fileWithJsonNames(FileDescriptor file) {
    FileDescriptor done = REBUILT.get(file.getName());
    if (done != null) {
      return done;
    }
    List<FileDescriptor> dependencies = file.getDependencies().stream()
        .map(JsonNamedDescriptors::fileWithJsonNames).toList();
    FileDescriptorProto.Builder proto = file.toProto().toBuilder();
    for (int i = 0; i < proto.getMessageTypeCount(); i++) {
      nameFields(proto.getMessageTypeBuilder(i), file.getMessageTypes().get(i));
    }
    for (int i = 0; i < proto.getExtensionCount(); i++) {
      named(proto.getExtensionBuilder(i), file.getExtensions().get(i));
    }
    try {
      FileDescriptor rebuilt = FileDescriptor.buildFrom(proto.build(), dependencies.toArray(FileDescriptor[]::new));
      FileDescriptor raced = REBUILT.putIfAbsent(file.getName(), rebuilt);
      return raced == null ? rebuilt : raced;
    } catch (DescriptorValidationException e) {
      // The input is a descriptor protobuf-java already validated; only a bug here can make it invalid.
      throw new IllegalStateException("cannot rebuild " + file.getName() + " with JSON names: " + e.getMessage(), e);
    }
  }

  private static void nameFields(DescriptorProto.Builder message, Descriptor descriptor) {
    for (int i = 0; i < message.getFieldCount(); i++) {
      named(message.getFieldBuilder(i), descriptor.getFields().get(i));
    }
    for (int i = 0; i < message.getExtensionCount(); i++) {
      named(message.getExtensionBuilder(i), descriptor.getExtensions().get(i));
    }
    for (int i = 0; i < message.getNestedTypeCount(); i++) {
      nameFields(message.getNestedTypeBuilder(i), descriptor.getNestedTypes().get(i));
    }
  }

  private static void named(FieldDescriptorProto.Builder field, FieldDescriptor descriptor) {
    if (!field.hasJsonName()) {
      field.setJsonName(descriptor.getJsonName());
    }
  }

  /** What reflection asks a service definition for: its file, and the service in it. */
  private record Schema(FileDescriptor file, ServiceDescriptor service)
      implements ProtoFileDescriptorSupplier, ProtoServiceDescriptorSupplier {
    @Override
    public FileDescriptor getFileDescriptor() {
      return file;
    }

    @Override
    public ServiceDescriptor getServiceDescriptor() {
      return service;
    }
  }
}
