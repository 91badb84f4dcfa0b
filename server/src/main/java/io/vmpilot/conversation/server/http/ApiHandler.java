package io.vmpilot.conversation.server.http;

import com.google.protobuf.Message;
import com.google.rpc.Status;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The API routes: finds the route, transcodes the request, calls the RPC in process with the request's
 * {@code Authorization} header as the call's {@code authorization} metadata, and writes the response, or the
 * error as a {@code google.rpc.Status} with the HTTP status of its code.
 */
final class ApiHandler implements HttpHandler {
  private static final Logger LOG = Logger.getLogger(ApiHandler.class.getName());
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String JSON = "application/json; charset=utf-8";

  private final RouteTable routes;
  private final Channel channel;
  private final CrossSiteGuard guard;
  private final int maxBodyBytes;

  ApiHandler(RouteTable routes, Channel channel, CrossSiteGuard guard, int maxBodyBytes) {
    this.routes = routes;
    this.channel = channel;
    this.guard = guard;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      SecurityHeaders.apply(exchange.getResponseHeaders());
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      try {
        Message response = call(exchange);
        exchange.getResponseHeaders().set("Content-Type", JSON);
        exchange.sendResponseHeaders(200, 0);
        try (Writer out = new BufferedWriter(
            new OutputStreamWriter(exchange.getResponseBody(), StandardCharsets.UTF_8), 1 << 16)) {
          ProtoJson.writeResponse(response, out);
          out.write('\n');
        }
      } catch (HttpProblem p) {
        discard(exchange.getRequestBody());
        if (!p.allow().isEmpty()) {
          exchange.getResponseHeaders().set("Allow", String.join(", ", p.allow()));
        }
        sendError(exchange, p.httpStatus(), p.status());
      } catch (StatusRuntimeException e) {
        Status status = StatusProto.fromThrowable(e);
        if (status == null) {
          status = Status.newBuilder().setCode(e.getStatus().getCode().value())
              .setMessage(e.getStatus().getDescription() == null ? e.getStatus().getCode().name()
                  : e.getStatus().getDescription())
              .build();
        }
        sendError(exchange, HttpStatusCodes.of(status.getCode()), status);
      } catch (RuntimeException e) {
        LOG.log(Level.SEVERE, "HTTP " + exchange.getRequestMethod() + " "
            + HttpProblem.echo(exchange.getRequestURI().getRawPath()) + " failed unexpectedly", e);
        sendError(exchange, 500, Status.newBuilder().setCode(com.google.rpc.Code.INTERNAL_VALUE)
            .setMessage("internal error: " + e).build());
      }
    } catch (IOException e) {
      // The client went away, or the response had begun when a fault came: nothing more can be sent.
      LOG.log(Level.FINE, "HTTP " + exchange.getRequestMethod() + " failed while answering", e);
    }
  }

  private Message call(HttpExchange exchange) throws IOException {
    guard.checkHost(exchange.getRequestHeaders());
    guard.checkSameOrigin(exchange.getRequestHeaders());
    String rawPath = exchange.getRequestURI().getRawPath();
    RouteTable.Lookup lookup = routes.find(exchange.getRequestMethod(), rawPath);
    if (lookup instanceof RouteTable.WrongMethod w) {
      throw HttpProblem.methodNotAllowed(exchange.getRequestMethod(), rawPath, w.allowed());
    }
    if (!(lookup instanceof RouteTable.Found found)) {
      throw HttpProblem.noRoute(exchange.getRequestMethod(), rawPath);
    }
    Route route = found.route();
    byte[] body = new byte[0];
    if (route.takesBody()) {
      guard.checkJsonBody(exchange.getRequestHeaders());
      body = readBody(exchange);
    }
    Message request = RequestTranscoder.request(route, found.rawVariables(), exchange.getRequestURI().getRawQuery(),
        body);
    Metadata headers = new Metadata();
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (authorization != null) {
      headers.put(AUTHORIZATION, authorization);
    }
    Channel withHeaders = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    return ClientCalls.blockingUnaryCall(withHeaders, route.method(), CallOptions.DEFAULT, request);
  }

  private byte[] readBody(HttpExchange exchange) throws IOException {
    InputStream in = exchange.getRequestBody();
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.strip());
      } catch (NumberFormatException e) {
        throw HttpProblem.invalid("Content-Length", "is not a number");
      }
      if (declared > maxBodyBytes) {
        discard(in);
        throw HttpProblem.tooLarge(maxBodyBytes);
      }
    }
    byte[] body = in.readNBytes(maxBodyBytes + 1);
    if (body.length > maxBodyBytes) {
      discard(in);
      throw HttpProblem.tooLarge(maxBodyBytes);
    }
    return body;
  }

  /**
   * Reads and drops what is left of a refused body, up to twice the limit, so that the client reads the answer: a
   * connection closed with unread data is reset, and the client would lose the response with it.
   */
  private void discard(InputStream in) throws IOException {
    long left = 2L * maxBodyBytes;
    byte[] buffer = new byte[1 << 16];
    int n;
    while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
      left -= n;
    }
  }

  private static void sendError(HttpExchange exchange, int httpStatus, Status status) throws IOException {
    if (httpStatus == 401) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"conversation-store\"");
    }
    byte[] body = (ProtoJson.error(status) + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", JSON);
    if (exchange.getRequestMethod().equals("HEAD")) {
      exchange.sendResponseHeaders(httpStatus, -1);
      return;
    }
    exchange.sendResponseHeaders(httpStatus, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
