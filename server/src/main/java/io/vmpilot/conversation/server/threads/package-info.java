/**
 * How the server makes its threads: {@code DaemonThreads}, the one thread factory every pool and background
 * thread of the server's own uses (and the connection pools are given), so that a thread's name and priority are
 * set where it is made rather than inherited from whichever thread happened to start it.
 */
package io.vmpilot.conversation.server.threads;
