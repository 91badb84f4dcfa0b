package io.vmpilot.conversation.server.store;

import com.google.common.base.Utf8;
import java.util.Objects;

/**
 * A message to be stored: an optional client id ("" for none) and its JSON text, kept verbatim.
 *
 * @param utf8Bytes the size of {@code json} in UTF-8, which is what history limits count
 */
public record NewMessage(String id, String json, long utf8Bytes) {
  public NewMessage {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(json, "json");
  }

  public NewMessage(String id, String json) {
    this(id, json, Utf8.encodedLength(json));
  }

  public boolean hasId() {
    return !id.isEmpty();
  }

  /** True when {@code stored} is this very message: same id and byte-identical JSON. */
  public boolean sameAs(StoredMessage stored) {
    return id.equals(stored.id()) && stored.json().sameText(json);
  }
}
