package io.vmpilot.conversation.server.http;

import com.sun.net.httpserver.Headers;

/**
 * Headers on every response, API and viewer alike. The Content-Security-Policy lets a page run only the
 * server's own scripts and styles and talk only to the server, and with Trusted Types it makes the browser itself
 * refuse any assignment of a string as HTML ({@code innerHTML} and the like): a message holding {@code <script>}
 * cannot run even if some code tried to insert it as markup. No page may frame the viewer (clickjacking), and no
 * URL is sent on as a referrer (a thread id can be sensitive).
 */
final class SecurityHeaders {
  static final String CONTENT_SECURITY_POLICY = String.join("; ",
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
      "trusted-types 'none'");

  private SecurityHeaders() {}

  static void apply(Headers headers) {
    headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set("Cross-Origin-Resource-Policy", "same-origin");
  }
}
