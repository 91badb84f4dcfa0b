package io.vmpilot.conversation.server.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * When a conversation has expired: not updated for longer than its tenant's max_idle ({@code [retention]
 * max_idle}), or past its own expire time (set by a write). The one rule that readers ({@link ExpiringReads}), the
 * write rules (an expired conversation is absent to a write) and the sweep ({@link RetentionSweeper}) share, so
 * that they never disagree about which conversations exist.
 *
 * @param maxIdle how long a conversation may go without an update, for tenants without their own; empty: forever
 * @param maxIdlePerTenant tenants with their own max_idle ({@code [retention] tenant_max_idle}), which wins over
 *     {@code maxIdle}; an empty one turns it off for that tenant
 */
public record Retention(Optional<Duration> maxIdle, Map<String, Optional<Duration>> maxIdlePerTenant) {
  /** No conversation expires by idleness (an expire time set by a write still applies). */
  public static final Retention NONE = new Retention(Optional.empty(), Map.of());

  public Retention {
    Objects.requireNonNull(maxIdle, "maxIdle");
    maxIdlePerTenant = Map.copyOf(maxIdlePerTenant);
  }

  /** One max_idle for every tenant. */
  public static Retention maxIdle(Duration maxIdle) {
    return new Retention(Optional.of(maxIdle), Map.of());
  }

  /** The max_idle that applies to {@code tenant}, if any. */
  public Optional<Duration> maxIdleOf(String tenant) {
    Optional<Duration> own = maxIdlePerTenant.get(tenant);
    return own != null ? own : maxIdle;
  }

  /** Conversations of {@code tenant} last updated before this instant have expired; empty when none do by idleness. */
  public Optional<Instant> idleCutoff(String tenant, Instant now) {
    return maxIdleOf(tenant).map(now::minus);
  }

  /** Whether any tenant's conversations expire by idleness. */
  public boolean expiresIdle() {
    return maxIdle.isPresent() || maxIdlePerTenant.values().stream().anyMatch(Optional::isPresent);
  }

  /**
   * Whether a conversation of {@code tenant} last updated at {@code updateTime}, with the expire time
   * {@code expireTime} (null: none), has expired at {@code now}. A conversation updated exactly at the cutoff is
   * still there, one whose expire time is {@code now} is not.
   */
  public boolean expired(String tenant, Instant updateTime, Instant expireTime, Instant now) {
    if (expireTime != null && !expireTime.isAfter(now)) {
      return true;
    }
    Optional<Instant> cutoff = idleCutoff(tenant, now);
    return cutoff.isPresent() && updateTime.isBefore(cutoff.get());
  }
}
