package io.vmpilot.conversation.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A class-data sharing archive of the server jar (JDK's AppCDS, dynamic archive), so that each server the tests
 * start maps its classes from the archive instead of parsing and verifying them again: the integration tests start
 * the server hundreds of times, and class loading is most of a start (figures in docs/architecture.md). Used only
 * where the system property {@code server.cds.dir} names a directory (failsafe sets it; the benchmark does not, so
 * its servers start as users' do).
 *
 * <p>The archive is made once per jar, JVM and build by starting the server with {@code -XX:ArchiveClassesAtExit}
 * and stopping it; its name carries the jar's path, size and time and the JVM's, since the JVM refuses, with a
 * warning in the server's output, an archive made from another jar. Where making it fails, servers start without
 * one (said once on stderr).
 */
final class ServerClassArchive {
  /** The flag of the run that makes the archive; a launch with it gets no archive of its own. */
  static final String TRAINING_FLAG = "-XX:ArchiveClassesAtExit=";
  /** Per jar: its archive, or empty where making one failed. */
  private static final Map<Path, Optional<Path>> ARCHIVES = new HashMap<>();

  private ServerClassArchive() {}

  /** The JVM flags that use the archive of {@code jar}, made now if needed; none where it cannot be made. */
  static List<String> jvmArgs(Path jar) {
    String dir = System.getProperty("server.cds.dir");
    if (dir == null || dir.isBlank()) {
      return List.of();
    }
    synchronized (ARCHIVES) {
      Optional<Path> archive = ARCHIVES.get(jar.toAbsolutePath());
      if (archive == null) {
        archive = Optional.empty();
        try {
          archive = Optional.of(archiveOf(jar, Path.of(dir)));
        } catch (IOException | RuntimeException e) {
          System.err.println("ServerClassArchive: servers of " + jar + " start without a class archive: " + e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        ARCHIVES.put(jar.toAbsolutePath(), archive);
      }
      return archive.map(a -> List.of("-XX:SharedArchiveFile=" + a)).orElse(List.of());
    }
  }

  private static Path archiveOf(Path jar, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path archive = dir.resolve("conversation-server-" + key(jar) + ".jsa");
    if (Files.isRegularFile(archive)) {
      return archive;
    }
    Path work = Files.createTempDirectory(dir, "training-");
    Path made = work.resolve("archive.jsa");
    try {
      ServerProcess training = ServerProcess.launch(jar, List.of(), List.of(TRAINING_FLAG + made),
          List.of("--database-path", work.resolve("training.db").toString()), null, Map.of());
      // SIGTERM: the JVM writes the archive as it exits (with code 0 or 143, as the stop races the signal's exit).
      int exit = training.stop();
      if (!Files.isRegularFile(made) || Files.size(made) == 0) {
        throw new IOException("the JVM wrote no archive (exit code " + exit + "): " + training.output());
      }
      Files.move(made, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      deleteOtherArchives(dir, archive); // of earlier builds: each rebuild of the jar needs its own
      return archive;
    } finally {
      FileTrees.delete(work); // the training database and its disk reserve
    }
  }

  private static void deleteOtherArchives(Path dir, Path keep) throws IOException {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (!f.equals(keep) && name.startsWith("conversation-server-") && name.endsWith(".jsa")) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  private static String key(Path jar) throws IOException {
    String identity = jar.toAbsolutePath() + "|" + Files.size(jar) + "|" + Files.getLastModifiedTime(jar).toMillis()
        + "|" + System.getProperty("java.home") + "|" + System.getProperty("java.vm.version");
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
