package io.vmpilot.conversation.cli;

import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code convctl}: the conversation store's command line. */
@Command(name = "convctl", mixinStandardHelpOptions = true, versionProvider = Convctl.Version.class,
    description = "Lists, shows, deletes, exports, imports and backs up the conversations of a conversation store"
        + " server, imports a VMPilot database, and shows the server's status.",
    footer = {"", ExitCodes.HELP},
    subcommands = {ListCommand.class, ShowCommand.class, DeleteCommand.class, ExportCommand.class,
        ImportCommand.class, ImportVmpilotCommand.class, BackupCommand.class, StatusCommand.class,
        CommandLine.HelpCommand.class})
public final class Convctl implements Runnable {
  @Mixin
  Connection connection = new Connection();

  PrintStream out = System.out;
  PrintStream err = System.err;
  /** Makes the client; a test replaces it with one over an in-process channel. */
  java.util.function.Supplier<ConversationClient> clients = () -> connection.connect();

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "a command is required (see convctl --help)");
  }

  ConversationClient connect() {
    return clients.get();
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs convctl with these arguments and streams; returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    return run(new Convctl(), args, out, err);
  }

  static int run(Convctl convctl, String[] args, PrintStream out, PrintStream err) {
    convctl.out = out;
    convctl.err = err;
    CommandLine cli = new CommandLine(convctl);
    cli.setOut(new java.io.PrintWriter(out, true));
    cli.setErr(new java.io.PrintWriter(err, true));
    cli.setExecutionExceptionHandler((e, command, parsed) -> {
      int code = exitCode(e);
      err.println("convctl " + command.getCommandName() + ": " + message(e));
      if (code == ExitCodes.FAILURE && System.getenv("CONVCTL_DEBUG") != null) {
        e.printStackTrace(err);
      }
      return code;
    });
    return cli.execute(args);
  }

  private static int exitCode(Throwable e) {
    if (e instanceof CliException c) {
      return c.exitCode();
    }
    if (e instanceof DumpFormatException) {
      return ExitCodes.BAD_INPUT;
    }
    if (e instanceof ConversationStoreException c) {
      return ExitCodes.of(c.code());
    }
    if (e instanceof StatusRuntimeException s) {
      return ExitCodes.of(s.getStatus().getCode());
    }
    if (e instanceof IOException || e instanceof UncheckedIOException) {
      return ExitCodes.BAD_INPUT;
    }
    return ExitCodes.FAILURE;
  }

  private static String message(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus().getCode() + ": " + s.getStatus().getDescription();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /** The version in the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Convctl.class.getPackage().getImplementationVersion();
      return new String[] {"convctl " + (v != null ? v : "development")};
    }
  }
}
