package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.it.ServerProcess;
import io.vmpilot.conversation.v1.Message;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The values the server writes for one W1 turn, for pgbench to bind (its {@code -D} variables): the two messages'
 * JSON, their search words as the server builds them, the change log's encoded copy of the messages, and the bytes
 * the turn adds to the history. The words and the encoding come from the server's own code, loaded from its jar
 * (the benchmark does not link the server's classes; the words are {@code TsVectors.of}, package-private there),
 * so that pgbench sends PostgreSQL byte for byte what the server sends.
 *
 * @param userJson the user message (W1's first turn: {@code SyntheticMessages.userMessage(0)})
 * @param assistantJson the assistant message ({@code assistantMessage(1)})
 * @param userWords the user message's tsvector text, as the server sends it
 * @param assistantWords the assistant message's
 * @param loggedHex the change log's copy of both messages with ids {@code t-u0} and {@code t-a0}, as bytea hex
 * @param turnBytes the UTF-8 bytes of both messages (what history_bytes grows by)
 */
record PgbenchValues(String userJson, String assistantJson, String userWords, String assistantWords,
    String loggedHex, long turnBytes) {
  private static final String TS_VECTORS = "io.vmpilot.conversation.server.store.postgres.TsVectors";
  private static final String LOGGED_MESSAGES = "io.vmpilot.conversation.server.store.write.LoggedMessages";
  private static final String NEW_MESSAGE = "io.vmpilot.conversation.server.store.NewMessage";

  /** The values of W1's first turn ({@code SyntheticMessages.turn("t", 0)}), from the server jar's code. */
  static PgbenchValues ofFirstTurn() {
    List<Message> turn = new SyntheticMessages(true).turn("t", 0);
    try (URLClassLoader server = new URLClassLoader(new URL[] {ServerProcess.serverJar().toUri().toURL()},
        ClassLoader.getPlatformClassLoader())) {
      Method words = server.loadClass(TS_VECTORS).getDeclaredMethod("of", String.class);
      words.setAccessible(true);
      Class<?> newMessage = server.loadClass(NEW_MESSAGE);
      Constructor<?> message = newMessage.getConstructor(String.class, String.class);
      List<Object> messages = new ArrayList<>();
      long bytes = 0;
      for (Message m : turn) {
        messages.add(message.newInstance(m.getId(), m.getJson()));
        bytes += m.getJson().getBytes(StandardCharsets.UTF_8).length;
      }
      byte[] logged = (byte[]) server.loadClass(LOGGED_MESSAGES).getMethod("encode", List.class)
          .invoke(null, messages);
      return new PgbenchValues(turn.get(0).getJson(), turn.get(1).getJson(),
          (String) words.invoke(null, turn.get(0).getJson()), (String) words.invoke(null, turn.get(1).getJson()),
          "\\x" + HexFormat.of().formatHex(logged), bytes);
    } catch (ReflectiveOperationException | java.io.IOException e) {
      throw new IllegalStateException("cannot compute the turn's values with the server jar's code ("
          + TS_VECTORS + ", " + LOGGED_MESSAGES + "): " + e, e);
    }
  }

  /** pgbench's {@code -D} arguments for these values (a script without the index leaves the words unused). */
  List<String> defines() {
    List<String> d = new ArrayList<>();
    define(d, "user_json", userJson);
    define(d, "assistant_json", assistantJson);
    define(d, "user_words", userWords);
    define(d, "assistant_words", assistantWords);
    define(d, "logged", loggedHex);
    define(d, "turn_bytes", Long.toString(turnBytes));
    return d;
  }

  private static void define(List<String> d, String name, String value) {
    d.add("-D");
    d.add(name + "=" + value);
  }
}
