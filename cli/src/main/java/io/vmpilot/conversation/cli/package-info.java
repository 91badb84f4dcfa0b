/**
 * {@code convctl}, the command line of the conversation store: list, show, delete, export, import, import-vmpilot,
 * backup, status. {@code Convctl} is the entry point (picocli) and maps failures to exit codes ({@code ExitCodes});
 * {@code Connection} holds the connection flags; {@code DumpWriter}/{@code DumpReader} are the dump format
 * (docs/dump-format.md); {@code Importer} streams records to the server; {@code VmpilotDatabase} reads VMPilot's
 * own SQLite files; {@code Progress} reports long operations on stderr. Uses only the Java client and the proto.
 */
package io.vmpilot.conversation.cli;
