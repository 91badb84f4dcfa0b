package io.vmpilot.conversation.server.http;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The HTTP routes of a gRPC service, read from the {@code google.api.http} options of its methods, so that the
 * proto stays the one place where they are written. Only the forms this API uses are taken (one of get, post,
 * put, patch, delete; body {@code "*"} or none; additional bindings); anything else fails at start-up.
 */
final class RouteTable {
  /** What a request's method and path found. */
  sealed interface Lookup {}

  record Found(Route route, Map<String, String> rawVariables) implements Lookup {}

  record WrongMethod(List<String> allowed) implements Lookup {}

  record NoRoute() implements Lookup {}

  private final List<Route> routes;

  private RouteTable(List<Route> routes) {
    this.routes = List.copyOf(routes);
  }

  static RouteTable of(ServiceDescriptor service) {
    if (!(service.getSchemaDescriptor() instanceof ProtoServiceDescriptorSupplier schema)) {
      throw new IllegalArgumentException(service.getName() + " has no proto descriptor to read HTTP rules from");
    }
    Descriptors.ServiceDescriptor proto = schema.getServiceDescriptor();
    List<Route> routes = new ArrayList<>();
    for (MethodDescriptor<?, ?> method : service.getMethods()) {
      if (!(method.getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier methodSchema)) {
        continue;
      }
      Descriptors.MethodDescriptor methodProto = methodSchema.getMethodDescriptor();
      if (!methodProto.getOptions().hasExtension(AnnotationsProto.http)) {
        continue;
      }
      HttpRule rule = methodProto.getOptions().getExtension(AnnotationsProto.http);
      addRoute(routes, rule, method);
      for (HttpRule more : rule.getAdditionalBindingsList()) {
        addRoute(routes, more, method);
      }
    }
    if (routes.isEmpty()) {
      throw new IllegalArgumentException(proto.getFullName() + " has no google.api.http rules");
    }
    return new RouteTable(routes);
  }

  @SuppressWarnings("unchecked")
  private static void addRoute(List<Route> routes, HttpRule rule, MethodDescriptor<?, ?> method) {
    String verb;
    String path;
    switch (rule.getPatternCase()) {
      case GET -> { verb = "GET"; path = rule.getGet(); }
      case POST -> { verb = "POST"; path = rule.getPost(); }
      case PUT -> { verb = "PUT"; path = rule.getPut(); }
      case PATCH -> { verb = "PATCH"; path = rule.getPatch(); }
      case DELETE -> { verb = "DELETE"; path = rule.getDelete(); }
      default -> throw new IllegalArgumentException(method.getFullMethodName() + ": unsupported HTTP rule " + rule);
    }
    if (!rule.getBody().isEmpty() && !rule.getBody().equals("*")) {
      throw new IllegalArgumentException(method.getFullMethodName() + ": only body \"*\" is supported");
    }
    if (!rule.getResponseBody().isEmpty()) {
      throw new IllegalArgumentException(method.getFullMethodName() + ": response_body is not supported");
    }
    if (!(method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> requests)
        || !(requests.getMessagePrototype() instanceof Message prototype)) {
      throw new IllegalArgumentException(method.getFullMethodName() + " has no protobuf request type");
    }
    routes.add(new Route(verb, PathTemplate.parse(path), rule.getBody(),
        (MethodDescriptor<Message, Message>) (MethodDescriptor<?, ?>) method, prototype));
  }

  List<Route> routes() {
    return routes;
  }

  /** The route for {@code httpMethod} and {@code rawPath} (not percent-decoded). */
  Lookup find(String httpMethod, String rawPath) {
    Set<String> allowed = new LinkedHashSet<>();
    for (Route route : routes) {
      Optional<Map<String, String>> variables = route.path().match(rawPath);
      if (variables.isEmpty()) {
        continue;
      }
      if (route.httpMethod().equals(httpMethod)) {
        return new Found(route, variables.get());
      }
      allowed.add(route.httpMethod());
    }
    return allowed.isEmpty() ? new NoRoute() : new WrongMethod(List.copyOf(allowed));
  }
}
