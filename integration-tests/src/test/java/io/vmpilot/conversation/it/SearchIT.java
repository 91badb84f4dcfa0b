package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SearchRequest;
import io.vmpilot.conversation.v1.SearchResponse;
import io.vmpilot.conversation.v1.SearchResult;
import io.grpc.Status;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Search over the real server process, on SQLite and on PostgreSQL, through a corpus of agent conversations as
 * they are stored (OpenAI-style tool calls whose arguments are JSON inside a string, Anthropic-style content
 * blocks, code, several scripts): every query finds exactly the messages expected, and nothing of keys, numbers
 * or punctuation. Then paging, and the index following a Save that rewrites history.
 */
class SearchIT {
  @TempDir
  Path dir;

  @Test
  void searchesARealisticCorpusOnSqlite() throws Exception {
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("search.db"))) {
      searchCorpus(server.target());
    }
  }

  @Test
  void searchesARealisticCorpusOnPostgres() throws Exception {
    try (PostgresFleet fleet = PostgresFleet.start(1)) {
      searchCorpus(fleet.server(0).target());
    }
  }

  /**
   * Without the index ({@code --search-index false}) Search is refused with a reason, and the file keeps no index
   * (its triggers are gone); started again with the index, the server finds what was stored meanwhile.
   */
  @Test
  void aServerWithoutTheIndexRefusesSearchAndIndexesEverythingWhenTurnedOn() throws Exception {
    Path db = dir.resolve("noindex.db");
    try (ServerProcess server = Rpc.startSqlite(db, "--search-index", "false");
        ConversationClient client = ConversationClient.builder(server.target()).build()) {
      client.save("kept", List.of("{\"role\":\"user\",\"content\":\"the quokka is happy\"}"));
      Throwable refused = catchThrowable(() -> client.search("quokka"));
      assertThat(Status.fromThrowable(refused).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(Rpc.errorInfo(refused).orElseThrow().getReason()).isEqualTo("SEARCH_INDEX_OFF");
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        ResultSet rs = c.createStatement().executeQuery(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'message_text%'")) {
      assertThat(rs.getInt(1)).isZero();
    }
    try (ServerProcess server = Rpc.startSqlite(db);
        ConversationClient client = ConversationClient.builder(server.target()).build()) {
      assertThat(found(client, "quokka")).containsExactly("kept@0");
    }
  }

  /** The conversations, each a list of stored JSON messages. */
  private static Map<String, List<String>> corpus() {
    Map<String, List<String>> c = new LinkedHashMap<>();
    c.put("fix-crash", List.of(
        "{\"role\":\"system\",\"content\":\"You are VMPilot, a coding agent working in /src/app.\"}",
        "{\"role\":\"user\",\"content\":\"get_user_name raises KeyError when the profile is missing\"}",
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_7Qx\",\"type\":\"function\","
            + "\"function\":{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\": \\\"src/users/profile.py\\\","
            + " \\\"max_lines\\\": 400}\"}}]}",
        "{\"role\":\"tool\",\"tool_call_id\":\"call_7Qx\",\"content\":\"def get_user_name(user):\\n"
            + "    return user.profile['name']\"}",
        "{\"role\":\"assistant\",\"content\":\"Fixed: use user.profile.get('name', 'anonymous').\"}"));
    c.put("anthropic-blocks", List.of(
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Please run the migration for tenant acme\"}]}",
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"run_shell\","
            + "\"input\":{\"command\":\"./mvnw flyway:migrate -Dflyway.target=9\",\"timeout\":120}}]}",
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_01\","
            + "\"content\":\"Successfully applied 3 migrations\"}]}"));
    c.put("multilingual", List.of(
        "{\"role\":\"user\",\"content\":\"Переведи на русский: the deployment failed\"}",
        "{\"role\":\"assistant\",\"content\":\"Развёртывание не удалось\"}",
        "{\"role\":\"user\",\"content\":\"日本語でも説明して\"}",
        "{\"role\":\"assistant\",\"content\":\"Ελληνικά: η ανάπτυξη απέτυχε \\ud83d\\ude80 caf\\u00e9\"}"));
    return c;
  }

  /** Each query and what it must find, as thread@position. */
  private static Map<String, Set<String>> expectations() {
    Map<String, Set<String>> e = new LinkedHashMap<>();
    e.put("get_user_name", Set.of("fix-crash@1", "fix-crash@3"));
    e.put("KeyError", Set.of("fix-crash@1"));
    e.put("profile.py", Set.of("fix-crash@2"));
    e.put("src/users/profile.py", Set.of("fix-crash@2"));
    e.put("read_file", Set.of("fix-crash@2"));
    e.put("max_lines", Set.of("fix-crash@2")); // a key of the JSON inside the arguments string: that is text
    e.put("anonymous", Set.of("fix-crash@4"));
    e.put("flyway:migrate", Set.of("anthropic-blocks@1"));
    e.put("migration acme", Set.of("anthropic-blocks@0"));
    e.put("toolu_01", Set.of("anthropic-blocks@1", "anthropic-blocks@2"));
    e.put("русский", Set.of("multilingual@0"));
    e.put("РАЗВЁРТЫВАНИЕ", Set.of("multilingual@1"));
    e.put("日本語でも説明して", Set.of("multilingual@2"));
    e.put("ανάπτυξη", Set.of("multilingual@3"));
    e.put("café", Set.of("multilingual@3"));
    e.put("deployment", Set.of("multilingual@0"));
    // Non-hits: keys, numbers, punctuation, partial words, accents, words split across messages.
    e.put("tool_calls", Set.of());
    e.put("arguments", Set.of());
    e.put("role", Set.of());
    e.put("120", Set.of());
    e.put("400", Set.of("fix-crash@2")); // a number, but inside the arguments string: text
    e.put("tool_use_id", Set.of());
    e.put("get_user", Set.of("fix-crash@1", "fix-crash@3")); // a phrase of whole words
    e.put("user_name_get", Set.of());
    e.put("migrat", Set.of());
    e.put("cafe", Set.of());
    e.put("KeyError anonymous", Set.of());
    return e;
  }

  private static void searchCorpus(String target) {
    try (ConversationClient client = ConversationClient.builder(target).build()) {
      corpus().forEach((thread, messages) -> client.save(thread, messages));
      client.save(SaveRequest.newBuilder().setThreadId("unrelated").addMessages(ConversationClient.message(
          "{\"role\":\"user\",\"content\":\"what is the weather like\"}")).build());

      List<String> wrong = new ArrayList<>();
      expectations().forEach((query, expected) -> {
        Set<String> found = found(client, query);
        if (!found.equals(expected)) {
          wrong.add(query + ": expected " + expected + " but found " + found);
        }
      });
      assertThat(wrong).as("queries with wrong results").isEmpty();

      SearchResult hit = client.search("KeyError").getResults(0);
      assertThat(hit.getSnippet()).contains("get_user_name raises KeyError").doesNotContain("\"role\"");
      assertThat(hit.getScore()).isPositive();

      // Paging: 30 conversations mention the word; pages of 7 give each hit once.
      for (int i = 0; i < 30; i++) {
        client.save("page-" + i, List.of("{\"role\":\"user\",\"content\":\"rollback number " + i + "\"}"));
      }
      Set<String> seen = new HashSet<>();
      String token = "";
      int pages = 0;
      do {
        SearchResponse page = client.search(SearchRequest.newBuilder().setQuery("rollback").setPageSize(7)
            .setPageToken(token).build());
        page.getResultsList().forEach(r -> assertThat(seen.add(r.getThreadId())).as("once").isTrue());
        token = page.getNextPageToken();
        pages++;
      } while (!token.isEmpty());
      assertThat(seen).hasSize(30);
      assertThat(pages).isEqualTo(5);

      // The index follows a Save that rewrites the history, and a fork's copy is found too.
      client.save("fix-crash", List.of("{\"role\":\"user\",\"content\":\"start over\"}"));
      assertThat(found(client, "KeyError")).isEmpty();
      assertThat(found(client, "start over")).containsExactly("fix-crash@0");
      client.fork("anthropic-blocks", "anthropic-retry", 1);
      assertThat(found(client, "migration acme")).containsExactlyInAnyOrder("anthropic-blocks@0",
          "anthropic-retry@0");
      assertThat(found(client, "flyway:migrate")).containsExactly("anthropic-blocks@1");
    }
  }

  private static Set<String> found(ConversationClient client, String query) {
    Set<String> found = new HashSet<>();
    for (SearchResult r : client.search(SearchRequest.newBuilder().setQuery(query).setPageSize(100).build())
        .getResultsList()) {
      found.add(r.getThreadId() + "@" + r.getPosition());
    }
    return found;
  }
}
