package io.vmpilot.conversation.server.store.sqlite;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/** A conversation's cache counters as the schema keeps them: {@code {"name": integer}} in one column. */
final class JsonColumns {
  private JsonColumns() {}

  static String counters(Map<String, Long> counters) {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.beginObject();
      for (Map.Entry<String, Long> e : counters.entrySet()) {
        w.name(e.getKey()).value(e.getValue().longValue());
      }
      w.endObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  /** A JSON array of strings, for {@code json_each(?)}. */
  static String strings(Iterable<String> values) {
    StringWriter out = new StringWriter();
    try (JsonWriter w = new JsonWriter(out)) {
      w.beginArray();
      for (String v : values) {
        w.value(v);
      }
      w.endArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  static Map<String, Long> parseCounters(String json) {
    Map<String, Long> counters = new HashMap<>();
    try (JsonReader r = new JsonReader(new StringReader(json))) {
      r.beginObject();
      while (r.hasNext()) {
        counters.put(r.nextName(), r.nextLong());
      }
      r.endObject();
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new IllegalStateException("the database holds malformed cache_info: " + json, e);
    }
    return counters;
  }
}
