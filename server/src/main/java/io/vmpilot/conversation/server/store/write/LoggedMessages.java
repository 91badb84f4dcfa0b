package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.JsonText;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.StoredMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages of a change-log entry as one byte string, for the SQL backends' log column: for each message, its
 * id and its JSON as UTF-8, each preceded by its length (4 bytes, big-endian). One column instead of a row per
 * message keeps a logged Append at one insert.
 */
public final class LoggedMessages {
  private static final byte[] NONE = new byte[0];

  private LoggedMessages() {}

  public static byte[] encode(List<NewMessage> messages) {
    if (messages.isEmpty()) {
      return NONE;
    }
    List<byte[]> parts = new ArrayList<>(messages.size() * 2);
    int size = 0;
    for (NewMessage m : messages) {
      byte[] id = m.id().getBytes(StandardCharsets.UTF_8);
      byte[] json = m.json().getBytes(StandardCharsets.UTF_8);
      parts.add(id);
      parts.add(json);
      size += 8 + id.length + json.length;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    for (byte[] part : parts) {
      out.putInt(part.length).put(part);
    }
    return out.array();
  }

  /** The messages of {@code encoded}, at positions from {@code firstPosition} on, stored at {@code time}. */
  public static List<StoredMessage> decode(byte[] encoded, long firstPosition, Instant time) {
    List<StoredMessage> messages = new ArrayList<>();
    if (encoded == null) {
      return messages;
    }
    ByteBuffer in = ByteBuffer.wrap(encoded);
    long position = firstPosition;
    while (in.hasRemaining()) {
      String id = new String(next(in), StandardCharsets.UTF_8);
      messages.add(new StoredMessage(id, JsonText.ofUtf8(next(in)), position++, time));
    }
    return messages;
  }

  private static byte[] next(ByteBuffer in) {
    byte[] b = new byte[in.getInt()];
    in.get(b);
    return b;
  }
}
