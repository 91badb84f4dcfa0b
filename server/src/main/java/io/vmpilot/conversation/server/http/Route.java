package io.vmpilot.conversation.server.http;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;

/**
 * One HTTP route of an RPC, from its {@code google.api.http} rule.
 *
 * @param httpMethod GET, POST, DELETE, ...
 * @param path the rule's path template
 * @param body the rule's {@code body}: {@code "*"} for the whole request message, empty for none
 * @param method the RPC, called in process
 * @param requestPrototype the RPC's request message, to build a request from
 */
record Route(String httpMethod, PathTemplate path, String body, MethodDescriptor<Message, Message> method,
    Message requestPrototype) {

  boolean takesBody() {
    return !body.isEmpty();
  }
}
