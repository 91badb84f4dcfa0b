package io.vmpilot.conversation.server.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The path of a {@code google.api.http} rule, in the subset this API uses: literal segments, single-segment
 * variables ({@code {thread_id}}) and an optional custom verb ({@code :append}). A variable matches one segment
 * of the raw path, percent-decoded after the verb is split off, so a thread id holding {@code /} or {@code :}
 * travels as {@code %2F} / {@code %3A}. Multi-segment variables ({@code {name=a/*}}, {@code **}) are refused
 * when the template is read, not silently mismatched.
 */
record PathTemplate(String template, List<String> segments, String verb) {

  /** Parses a rule's path, e.g. {@code /v1/conversations/{thread_id}:append}. */
  static PathTemplate parse(String template) {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("an HTTP rule's path must start with '/': " + template);
    }
    String path = template.substring(1);
    String verb = null;
    int lastSlash = path.lastIndexOf('/');
    int colon = path.indexOf(':', lastSlash + 1);
    if (colon >= 0 && !path.substring(colon).contains("}")) {
      verb = path.substring(colon + 1);
      path = path.substring(0, colon);
    }
    List<String> segments = List.of(path.split("/", -1));
    for (String s : segments) {
      boolean variable = s.startsWith("{") && s.endsWith("}");
      if (s.isEmpty() || s.contains("*") || s.contains("=") || (!variable && (s.contains("{") || s.contains("}")))) {
        throw new IllegalArgumentException("unsupported HTTP rule path (only literal segments and {field}): "
            + template);
      }
    }
    return new PathTemplate(template, segments, verb);
  }

  /** The fields the path sets, in order. */
  List<String> variables() {
    List<String> names = new ArrayList<>();
    for (String s : segments) {
      if (isVariable(s)) {
        names.add(s.substring(1, s.length() - 1));
      }
    }
    return names;
  }

  /**
   * The variables' raw (still percent-encoded) values if {@code rawPath} matches, else empty. Decoding is left to
   * the caller, so that a bad escape is reported as that field's error rather than as "no such route".
   */
  Optional<Map<String, String>> match(String rawPath) {
    if (!rawPath.startsWith("/")) {
      return Optional.empty();
    }
    String path = rawPath.substring(1);
    if (verb != null) {
      String suffix = ":" + verb;
      if (!path.endsWith(suffix)) {
        return Optional.empty();
      }
      path = path.substring(0, path.length() - suffix.length());
    }
    String[] parts = path.split("/", -1);
    if (parts.length != segments.size()) {
      return Optional.empty();
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < parts.length; i++) {
      String s = segments.get(i);
      if (isVariable(s)) {
        values.put(s.substring(1, s.length() - 1), parts[i]);
      } else if (!s.equals(parts[i])) {
        return Optional.empty();
      }
    }
    return Optional.of(values);
  }

  private static boolean isVariable(String segment) {
    return segment.startsWith("{");
  }

  @Override
  public String toString() {
    return template;
  }
}
