package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.ImportResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "import-vmpilot", mixinStandardHelpOptions = true,
    description = "Imports every chat of a VMPilot SQLite database (either layout: the early chats +"
        + " chat_histories, where the newest history of a chat wins, or the later merged chats table) with its"
        + " messages exactly as VMPilot stored them, its cache info, and project_root, initial_request,"
        + " current_issue and timestamps as metadata. The database is only read; the whole of it is checked"
        + " first, so a bad chat stores nothing and names the chat.")
final class ImportVmpilotCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Parameters(paramLabel = "DB", description = "The VMPilot database file (e.g. ~/.vmpilot/vmpilot.db).")
  Path database;

  @Option(names = "--on-existing", defaultValue = "fail", description = ExistingOption.HELP)
  ExistingOption onExisting;

  @Override
  public Integer call() throws Exception {
    try (VmpilotDatabase db = VmpilotDatabase.open(database)) {
      long[] total = {0};
      db.read(r -> total[0]++);
      convctl.err.println("convctl import-vmpilot: " + database + ": " + db.layout().name().toLowerCase()
          + " layout, " + total[0] + " chats");
      Progress progress = new Progress(convctl.err, Progress.stderrIsTerminal(), "imported", total[0]);
      List<String> chats = new ArrayList<>();
      try (ConversationClient client = convctl.connect()) {
        Importer importer = new Importer(client, onExisting.policy);
        db.read(r -> {
          chats.add(r.getThreadId());
          importer.send(r);
          progress.step();
        });
        ImportResponse response = importer.finish();
        return ImportSummary.report(response, progress, convctl.err,
            i -> database + ": chat " + (i < chats.size() ? chats.get((int) i) : "?"));
      }
    }
  }
}
