package io.vmpilot.conversation.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The web viewer's static files, from the classpath folder {@code /viewer/} (the sources in
 * {@code server/src/main/resources/viewer}, plain ES modules that need no build step): {@code /} is
 * {@code index.html}. Only names made of lower-case letters, digits, dots, dashes and slashes are looked up, so
 * nothing outside the folder can be reached. Each file is read once and then answered from memory, with an ETag
 * so that a browser revalidates it cheaply.
 */
final class ViewerAssets implements HttpHandler {
  private static final Pattern SAFE_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9]+)*"
      + "(/[a-z0-9][a-z0-9_-]*(\\.[a-z0-9]+)*)*");
  private static final Map<String, String> TYPES = Map.of(
      "html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8",
      "css", "text/css; charset=utf-8",
      "svg", "image/svg+xml",
      "png", "image/png",
      "json", "application/json; charset=utf-8",
      "txt", "text/plain; charset=utf-8");

  private record Asset(byte[] bytes, String contentType, String etag) {}

  private final String root;
  private final CrossSiteGuard guard;
  private final Map<String, Optional<Asset>> cache = new ConcurrentHashMap<>();

  ViewerAssets(String classpathRoot, CrossSiteGuard guard) {
    this.root = classpathRoot;
    this.guard = guard;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      SecurityHeaders.apply(exchange.getResponseHeaders());
      try {
        guard.checkHost(exchange.getRequestHeaders());
      } catch (HttpProblem p) {
        sendText(exchange, p.httpStatus(), p.getMessage());
        return;
      }
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        sendText(exchange, 405, "the viewer's pages take GET and HEAD only");
        return;
      }
      String path = exchange.getRequestURI().getPath();
      String name = path.equals("/") ? "index.html" : path.substring(1);
      Optional<Asset> asset = SAFE_NAME.matcher(name).matches() ? cache.computeIfAbsent(name, this::load)
          : Optional.empty();
      if (asset.isEmpty()) {
        sendText(exchange, 404, "not found: the viewer is at /, the API under /v1/");
        return;
      }
      Asset a = asset.get();
      exchange.getResponseHeaders().set("Content-Type", a.contentType());
      exchange.getResponseHeaders().set("ETag", a.etag());
      exchange.getResponseHeaders().set("Cache-Control", "no-cache");
      if (a.etag().equals(exchange.getRequestHeaders().getFirst("If-None-Match"))) {
        exchange.sendResponseHeaders(304, -1);
        return;
      }
      if (method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Content-Length", Integer.toString(a.bytes().length));
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, a.bytes().length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(a.bytes());
      }
    }
  }

  private Optional<Asset> load(String name) {
    String extension = name.substring(name.lastIndexOf('.') + 1);
    String type = TYPES.get(extension);
    if (type == null || name.indexOf('.') < 0) {
      return Optional.empty();
    }
    try (InputStream in = ViewerAssets.class.getResourceAsStream(root + name)) {
      if (in == null) {
        return Optional.empty();
      }
      byte[] bytes = in.readAllBytes();
      return Optional.of(new Asset(bytes, type, etag(bytes)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String etag(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return '"' + HexFormat.of().formatHex(digest, 0, 12) + '"';
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sendText(HttpExchange exchange, int status, String text) throws IOException {
    byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    if (exchange.getRequestMethod().equals("HEAD")) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
