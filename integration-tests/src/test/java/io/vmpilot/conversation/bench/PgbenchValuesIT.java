package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * pgbench's values come from the server jar's own code (an IT: the jar exists only after the package phase): the
 * words as the server sends them, the change log's copy as the server encodes it.
 */
class PgbenchValuesIT {
  @Test
  void theTurnsValuesAreTheServersWordsAndLogEncodingOfW1sFirstTurn() {
    PgbenchValues v = PgbenchValues.ofFirstTurn();
    assertThat(v.userJson()).isEqualTo(SyntheticMessages.userMessage(0));
    assertThat(v.assistantJson()).isEqualTo(SyntheticMessages.assistantMessage(1));
    int user = v.userJson().getBytes(StandardCharsets.UTF_8).length;
    int assistant = v.assistantJson().getBytes(StandardCharsets.UTF_8).length;
    assertThat(v.turnBytes()).isEqualTo(user + assistant);
    // TsVectors.of: quoted words with their positions, in the order they first occur ('user' is the role).
    assertThat(v.userWords()).startsWith("'user':1 ").matches("('[^']+':[0-9,]+ ?)+");
    assertThat(v.assistantWords()).startsWith("'assistant':1 ");
    // LoggedMessages.encode: per message, its id and its JSON, each after a 4-byte length.
    assertThat(v.loggedHex()).startsWith("\\x00000004" + HexFormat.of().formatHex("t-u0".getBytes(
        StandardCharsets.UTF_8)));
    assertThat((v.loggedHex().length() - 2) / 2).isEqualTo(4 * 4 + 2 * 4 + user + assistant);
    assertThat(v.defines()).contains("user_words=" + v.userWords(), "turn_bytes=" + v.turnBytes());
  }
}
