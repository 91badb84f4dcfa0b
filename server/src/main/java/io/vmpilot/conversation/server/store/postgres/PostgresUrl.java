package io.vmpilot.conversation.server.store.postgres;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the database is, from the URL an operator writes: a libpq connection URI as psql takes it
 * ({@code postgresql://[user[:password]@][host][:port][,host2[:port2]...][/dbname][?name=value&...]}, scheme
 * {@code postgres://} too), or a JDBC URL ({@code jdbc:postgresql://...}), which is taken as it is.
 *
 * <p>libpq's parameters that the JDBC driver names differently are translated ({@code application_name},
 * {@code connect_timeout}, {@code target_session_attrs}); {@code sslmode}, {@code sslrootcert}, {@code sslcert},
 * {@code sslkey} and {@code options} mean the same to both; any other parameter goes to the driver unchanged, so its
 * own ones work too. A URI without a host means localhost over TCP (the driver has no Unix-socket transport).
 *
 * @param jdbcUrl hosts, ports and database, without credentials or parameters
 * @param properties the connection parameters, as the driver names them
 * @param user the user named in the URI, if any
 * @param password the password written in the URI, if any (better kept out of it: see the README)
 */
public record PostgresUrl(String jdbcUrl, Map<String, String> properties, Optional<String> user,
    Optional<String> password) {
  private static final int DEFAULT_PORT = 5432;

  public PostgresUrl {
    properties = Map.copyOf(properties);
  }

  public static PostgresUrl parse(String url) {
    String u = url.strip();
    if (u.startsWith("jdbc:postgresql:")) {
      return new PostgresUrl(u, Map.of(), Optional.empty(), Optional.empty());
    }
    String rest;
    if (u.startsWith("postgresql://")) {
      rest = u.substring("postgresql://".length());
    } else if (u.startsWith("postgres://")) {
      rest = u.substring("postgres://".length());
    } else {
      throw new IllegalArgumentException("the database URL must start with postgresql://, postgres:// or"
          + " jdbc:postgresql:, as in postgresql://user@host:5432/database");
    }
    String query = "";
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    String database = "";
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      database = decode(rest.substring(slash + 1));
      rest = rest.substring(0, slash);
    }
    Optional<String> user = Optional.empty();
    Optional<String> password = Optional.empty();
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      String credentials = rest.substring(0, at);
      rest = rest.substring(at + 1);
      int colon = credentials.indexOf(':');
      String name = decode(colon >= 0 ? credentials.substring(0, colon) : credentials);
      user = name.isEmpty() ? Optional.empty() : Optional.of(name);
      if (colon >= 0) {
        password = Optional.of(decode(credentials.substring(colon + 1)));
      }
    }
    Map<String, String> properties = new LinkedHashMap<>();
    if (!query.isEmpty()) {
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("the database URL's parameter '" + pair + "' has no value");
        }
        String name = decode(pair.substring(0, eq));
        String value = decode(pair.substring(eq + 1));
        switch (name) {
          case "user" -> user = Optional.of(value);
          case "password" -> password = Optional.of(value);
          case "dbname" -> database = value;
          case "host", "port", "hostaddr" -> throw new IllegalArgumentException(
              "write the database URL's host and port before the path, as in postgresql://user@host:5432/db");
          default -> properties.put(jdbcName(name), jdbcValue(name, value));
        }
      }
    }
    String hosts = String.join(",", hosts(rest));
    return new PostgresUrl("jdbc:postgresql://" + hosts + "/" + database, properties, user, password);
  }

  private static List<String> hosts(String list) {
    List<String> hosts = new ArrayList<>();
    for (String hostPort : (list.isEmpty() ? "localhost" : list).split(",", -1)) {
      String host = hostPort;
      String port = Integer.toString(DEFAULT_PORT);
      int colon = hostPort.lastIndexOf(':');
      int bracket = hostPort.lastIndexOf(']');
      if (colon > bracket) {
        host = hostPort.substring(0, colon);
        port = hostPort.substring(colon + 1);
      }
      host = decode(host);
      if (host.isEmpty()) {
        host = "localhost";
      }
      if (host.startsWith("/")) {
        throw new IllegalArgumentException("the database URL names a Unix socket directory (" + host
            + "); the server connects over TCP: name a host, e.g. localhost");
      }
      if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
        throw new IllegalArgumentException("the database URL's port '" + port + "' is not a port number");
      }
      hosts.add(host + ":" + port);
    }
    return hosts;
  }

  /** libpq's parameter names that the JDBC driver spells differently. */
  private static String jdbcName(String libpqName) {
    return switch (libpqName) {
      case "application_name" -> "ApplicationName";
      case "connect_timeout" -> "connectTimeout";
      case "target_session_attrs" -> "targetServerType";
      default -> libpqName;
    };
  }

  private static String jdbcValue(String libpqName, String value) {
    if (!libpqName.equals("target_session_attrs")) {
      return value;
    }
    return switch (value) {
      case "any" -> "any";
      case "read-write", "primary" -> "primary";
      case "read-only", "standby" -> "secondary";
      case "prefer-standby" -> "preferSecondary";
      default -> throw new IllegalArgumentException("target_session_attrs '" + value + "' is not one of any,"
          + " read-write, read-only, primary, standby, prefer-standby");
    };
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The URL as it may be logged: the password, wherever it was written, replaced by {@code ***}. */
  public static String redacted(String url) {
    String u = url.strip();
    // postgresql://user:password@host -> postgresql://user:***@host
    u = u.replaceFirst("^((?:postgres(?:ql)?|jdbc:postgresql)://[^/@?]*?:)[^/@?]*@", "$1***@");
    return u.replaceAll("(?i)([?&]password=)[^&]*", "$1***");
  }
}
