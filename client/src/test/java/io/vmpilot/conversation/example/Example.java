// The README's Java example (section "Java"), kept here so that every build compiles it, in a package of its
// own so that it can use only the client's public API. ReadmeJavaExampleTest checks that the README shows
// exactly the lines between the markers.
package io.vmpilot.conversation.example;

// readme-example:start
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.client.VersionConflictException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.SaveRequest;
import java.util.Map;
import java.util.Optional;

public class Example {
  public static void main(String[] args) {
    try (ConversationClient store = ConversationClient.connect("localhost:50051")) {
      // A turn in one call: the new messages and the cache counters, stored together; ids make a retry harmless.
      store.append(AppendRequest.newBuilder().setThreadId("thread-42")
          .addMessages(ConversationClient.message("t7-user", "{\"role\":\"user\",\"content\":\"and now?\"}"))
          .addMessages(ConversationClient.message("t7-assistant", "{\"role\":\"assistant\",\"content\":\"done\"}"))
          .putCacheInfo("input_tokens", 1200L).putCacheInfo("cache_read_input_tokens", 1024L)
          .build());

      Optional<Conversation> last20 = store.getNewest("thread-42", 20);   // empty if there is none
      last20.ifPresent(c -> System.out.println(c.getMessageCount() + " messages, version " + c.getVersion()));
      for (ConversationSummary s : store.list(Map.of("project_root", "/src/app"))) {   // pages fetched lazily
        System.out.println(s.getThreadId() + " " + s.getMessageCount());
      }

      // Read-modify-write without lost updates:
      Conversation c = store.get("thread-42").orElseThrow();
      try {
        store.save(SaveRequest.newBuilder().setThreadId("thread-42").setExpectedVersion(c.getVersion())
            .addAllMessages(c.getMessagesList()).putMetadata("title", "Build fix").build());
      } catch (VersionConflictException e) {
        // someone else wrote first: e.currentVersion() is theirs; read again and redo
      }
    } catch (ConversationStoreException e) {   // any other error: status code, ErrorInfo reason and details
      System.err.println(e.code() + " " + e.reason() + " " + e.metadata());
    }
  }
}
// readme-example:end
