package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.BackupRequest;
import io.vmpilot.conversation.v1.BackupResponse;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "backup", mixinStandardHelpOptions = true,
    description = "Has the server copy its SQLite database, consistently and while it serves, to FILE on the"
        + " server's machine (a relative FILE is made absolute here, so it suits a server on this machine)."
        + " FILE must not exist. Start a server on the copy to restore it.")
final class BackupCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Parameters(paramLabel = "FILE", description = "Where the server writes the copy.")
  Path file;

  @Override
  public Integer call() {
    try (ConversationClient client = convctl.connect()) {
      BackupResponse r = client.adminStub().backup(
          BackupRequest.newBuilder().setPath(file.toAbsolutePath().toString()).build());
      convctl.err.println(String.format(Locale.ROOT, "backed up to %s (%d bytes) in %.1f s", r.getPath(), r.getBytes(),
          r.getDuration().getSeconds() + r.getDuration().getNanos() / 1e9));
      return ExitCodes.OK;
    }
  }
}
