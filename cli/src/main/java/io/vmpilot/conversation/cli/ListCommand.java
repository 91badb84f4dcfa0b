package io.vmpilot.conversation.cli;

import com.google.protobuf.util.JsonFormat;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.ListRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "list", mixinStandardHelpOptions = true,
    description = "Lists conversations, most recently updated first, paging through all of them.")
final class ListCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Option(names = "--filter", paramLabel = "KEY=VALUE",
      description = "Only conversations whose metadata has KEY=VALUE (repeatable: all must match).")
  Map<String, String> filter = new LinkedHashMap<>();

  @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
      description = "At most N conversations (default: all).")
  long limit;

  @Option(names = {"-o", "--output"}, defaultValue = "table",
      description = "table (default) or json (one ConversationSummary per line, proto JSON).")
  Output output;

  enum Output { table, json }

  @Override
  public Integer call() throws Exception {
    try (ConversationClient client = convctl.connect()) {
      ListRequest request = ListRequest.newBuilder().setPageSize(500).putAllMetadataFilter(filter).build();
      JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace().sortingMapKeys();
      if (output == Output.table) {
        convctl.out.printf("%-40s %8s %12s  %-27s %s%n", "THREAD", "MESSAGES", "VERSION", "UPDATED", "METADATA");
      }
      long n = 0;
      for (ConversationSummary s : client.list(request)) {
        if (limit > 0 && n >= limit) {
          break;
        }
        n++;
        if (output == Output.json) {
          convctl.out.println(json.print(s));
        } else {
          convctl.out.printf("%-40s %8d %12d  %-27s %s%n", s.getThreadId(), s.getMessageCount(), s.getVersion(),
              Render.time(s.getUpdateTime()), Render.metadata(s.getMetadataMap(), 60));
        }
      }
      convctl.out.flush();
      return ExitCodes.OK;
    }
  }
}
