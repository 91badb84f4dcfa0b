package io.vmpilot.conversation.server.http;

import com.sun.net.httpserver.Headers;
import java.net.InetAddress;
import java.util.Locale;

/**
 * Keeps other web sites from using the API through a visitor's browser, which matters most when the server
 * listens on 127.0.0.1 without authentication (the default): any page the user opens could otherwise send
 * requests to it.
 *
 * <ul>
 *   <li>A request that a browser marks as coming from another origin ({@code Origin}, {@code Sec-Fetch-Site}) is
 *       refused: no other site may read or change conversations. The server sends no CORS headers either.
 *   <li>A request whose body the API reads must say {@code Content-Type: application/json}, which a page of
 *       another site cannot send without the browser asking first (a CORS preflight, which is refused).
 *   <li>When the server listens on a loopback address, the {@code Host} must be an IP address or
 *       {@code localhost}: a page of another site whose name it made resolve to 127.0.0.1 (DNS rebinding) is
 *       refused although the browser sees it as same-origin.
 * </ul>
 * Clients that are not browsers (curl, scripts) send none of these headers and are unaffected.
 */
final class CrossSiteGuard {
  private final boolean loopbackOnly;
  private final String scheme;

  CrossSiteGuard(String bindAddress, boolean tls) {
    this.loopbackOnly = isLoopback(bindAddress);
    this.scheme = tls ? "https" : "http";
  }

  /** Every request, the viewer's pages too. */
  void checkHost(Headers headers) {
    String host = headers.getFirst("Host");
    if (loopbackOnly && host != null && !isLocalHost(hostName(host))) {
      throw HttpProblem.crossSite("this server listens on a loopback address and answers only requests for "
          + "localhost or an IP address, not for '" + HttpProblem.echo(host) + "' (a protection against DNS rebinding)");
    }
  }

  /** API requests. */
  void checkSameOrigin(Headers headers) {
    String fetchSite = headers.getFirst("Sec-Fetch-Site");
    if (fetchSite != null && (fetchSite.equalsIgnoreCase("cross-site") || fetchSite.equalsIgnoreCase("same-site"))) {
      throw HttpProblem.crossSite("requests from other web sites are refused (Sec-Fetch-Site: "
          + HttpProblem.echo(fetchSite) + ")");
    }
    String origin = headers.getFirst("Origin");
    String host = headers.getFirst("Host");
    if (origin != null && (host == null || !origin.equalsIgnoreCase(scheme + "://" + host))) {
      throw HttpProblem.crossSite("requests from other origins are refused (Origin: " + HttpProblem.echo(origin) + ")");
    }
  }

  /** API requests whose route takes a body. */
  void checkJsonBody(Headers headers) {
    String contentType = headers.getFirst("Content-Type");
    String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    if (!mediaType.equals("application/json")) {
      throw HttpProblem.invalid("Content-Type", "must be application/json (the body is the request in proto3 JSON)"
          + (contentType == null ? ", and is missing" : ", not '" + HttpProblem.echo(contentType) + "'"));
    }
  }

  private static String hostName(String hostHeader) {
    String h = hostHeader.strip();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(0, end + 1);
    }
    int colon = h.lastIndexOf(':');
    return colon < 0 ? h : h.substring(0, colon);
  }

  private static boolean isLocalHost(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.equals("localhost") || n.endsWith(".localhost")) {
      return true;
    }
    if (n.startsWith("[") && n.endsWith("]")) {
      return n.length() > 2 && n.substring(1, n.length() - 1).chars().allMatch(c -> Character.digit(c, 16) >= 0
          || c == ':' || c == '.');
    }
    return n.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  private static boolean isLoopback(String bindAddress) {
    try {
      return InetAddress.getByName(bindAddress).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
