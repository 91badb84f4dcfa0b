package io.vmpilot.conversation.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Calls of the server's HTTP/JSON API with the JDK's HTTP client, for the tests. */
final class HttpJson {
  /** A response: its HTTP status, headers and body (parsed when it is JSON). */
  record Response(int status, HttpResponse<String> raw) {
    JsonObject json() {
      return JsonParser.parseString(raw.body()).getAsJsonObject();
    }

    String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    /** The detail of a google.rpc.Status body with this type, e.g. "google.rpc.ErrorInfo". */
    JsonObject detail(String type) {
      JsonArray details = json().getAsJsonArray("details");
      for (JsonElement d : details) {
        if (d.getAsJsonObject().get("@type").getAsString().equals("type.googleapis.com/" + type)) {
          return d.getAsJsonObject();
        }
      }
      throw new AssertionError("no " + type + " in " + raw.body());
    }

    String reason() {
      return detail("google.rpc.ErrorInfo").get("reason").getAsString();
    }
  }

  private final HttpClient client;
  private final String base;

  HttpJson(String baseUrl) {
    this(baseUrl, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build());
  }

  HttpJson(String baseUrl, HttpClient client) {
    this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.client = client;
  }

  static String encode(String pathSegment) {
    return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(30));
  }

  Response send(HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    return new Response(response.statusCode(), response);
  }

  Response get(String pathAndQuery, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder b = request(pathAndQuery).GET();
    addHeaders(b, headers);
    return send(b.build());
  }

  Response delete(String pathAndQuery, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder b = request(pathAndQuery).DELETE();
    addHeaders(b, headers);
    return send(b.build());
  }

  /** POST with a JSON body and {@code Content-Type: application/json}. */
  Response post(String path, String json, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder b = request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
    addHeaders(b, headers);
    return send(b.build());
  }

  private static void addHeaders(HttpRequest.Builder b, String[] headers) {
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
  }
}
