package io.vmpilot.conversation.server.store.write;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import java.lang.reflect.Type;
import java.util.Map;

/**
 * The metadata of a change-log entry as the SQL backends' log columns hold it: a JSON object of strings, which
 * SQLite's json_group_object and PostgreSQL's jsonb_object_agg build inside the insert (so that logging an Append
 * reads no metadata out of the database), and NULL for none.
 */
public final class LoggedMetadata {
  private static final Gson GSON = new Gson();
  private static final Type MAP = new TypeToken<Map<String, String>>() {}.getType();

  private LoggedMetadata() {}

  /** The JSON of {@code metadata}; null for null. */
  public static String encode(Map<String, String> metadata) {
    return metadata == null ? null : GSON.toJson(metadata, MAP);
  }

  /** The metadata of {@code json}; {@code ifNull} for a NULL column. */
  public static Map<String, String> decode(String json, Map<String, String> ifNull) {
    if (json == null) {
      return ifNull;
    }
    Map<String, String> m = GSON.fromJson(json, MAP);
    return m == null ? ifNull : m;
  }
}
