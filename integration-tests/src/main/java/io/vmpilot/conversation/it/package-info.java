/**
 * Starting the real server as a separate process for tests and the benchmark ({@code ServerProcess}: a free
 * port, its own database file, its output captured). Uses only the JDK and the server's jar.
 */
package io.vmpilot.conversation.it;
