package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.ImportResponse;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "import", mixinStandardHelpOptions = true,
    description = "Stores the conversations of a dump (docs/dump-format.md), each atomically. The whole file is"
        + " checked first: a truncated or corrupt file, a wrong version or a malformed line stores nothing and"
        + " names the line. Importing the same dump twice changes nothing. - (the default) reads stdin.")
final class ImportCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Parameters(paramLabel = "FILE", arity = "0..1", defaultValue = "-", description = "The dump to read, or -.")
  String file;

  @Option(names = "--on-existing", defaultValue = "fail", description = ExistingOption.HELP)
  ExistingOption onExisting;

  @Override
  public Integer call() throws Exception {
    Path dump;
    Path temporary = null;
    if (file.equals("-")) {
      // Read twice (check, then send): stdin is kept in a temporary file in between.
      temporary = Files.createTempFile("convctl-import", ".jsonl");
      Files.copy(System.in, temporary, StandardCopyOption.REPLACE_EXISTING);
      dump = temporary;
    } else {
      dump = Path.of(file);
    }
    try {
      long total;
      try (InputStream in = Files.newInputStream(dump)) {
        total = DumpReader.check(in);
      } catch (DumpFormatException e) {
        throw new CliException(ExitCodes.BAD_INPUT, file + ": " + e.getMessage() + "; nothing was imported");
      }
      long[] lines = new long[(int) Math.min(Integer.MAX_VALUE - 8, Math.max(16, total))];
      Progress progress = new Progress(convctl.err, Progress.stderrIsTerminal(), "imported", total);
      try (ConversationClient client = convctl.connect(); InputStream in = Files.newInputStream(dump)) {
        Importer importer = new Importer(client, onExisting.policy);
        long[] index = {0};
        DumpReader.read(in, (line, record) -> {
          if (index[0] < lines.length) {
            lines[(int) index[0]] = line;
          }
          index[0]++;
          try {
            importer.send(record);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.FAILURE, "interrupted");
          }
          progress.step();
        });
        ImportResponse response = importer.finish();
        return ImportSummary.report(response, progress, convctl.err,
            i -> file + ": line " + (i < lines.length ? lines[(int) i] : "?"));
      }
    } finally {
      if (temporary != null) {
        Files.deleteIfExists(temporary);
      }
    }
  }

}
