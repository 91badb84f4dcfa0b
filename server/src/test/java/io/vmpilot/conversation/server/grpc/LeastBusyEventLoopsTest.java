package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Registers channels as the server's accept loop does ({@code childGroup.register(child)}), on real NIO event
 * loops: a long-lived connection, then connections that come and go, then as many open at once as there are loops.
 */
class LeastBusyEventLoopsTest {
  private final LeastBusyEventLoops group =
      new LeastBusyEventLoops(4, new DefaultThreadFactory("test-network", true), NioIoHandler.newFactory());
  private final List<Channel> channels = new ArrayList<>();

  @AfterEach
  void close() {
    channels.forEach(Channel::close);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void connectionsThatCameAndWentDoNotPutTheNextOnesBesideALongLivedOne() {
    Channel longLived = register();
    for (int i = 0; i < 5; i++) {
      register().close().syncUninterruptibly();
    }
    // Handed out in turn, these three would go to loops 2, 3 and 0: the last beside the long-lived connection.
    Set<EventLoop> loops = new HashSet<>();
    loops.add(longLived.eventLoop());
    for (int i = 0; i < 3; i++) {
      loops.add(register().eventLoop());
    }
    assertThat(loops).as("four open connections, four loops").hasSize(4);
    assertThat(group.openPerLoop()).containsExactly(1, 1, 1, 1);
  }

  @Test
  void withMoreConnectionsThanLoopsTheyAreSpreadEvenlyAndClosedOnesAreNotCounted() {
    for (int i = 0; i < 10; i++) {
      register();
    }
    assertThat(group.openPerLoop()).containsExactlyInAnyOrder(3, 3, 2, 2);
    channels.remove(0).close().syncUninterruptibly();
    channels.remove(0).close().syncUninterruptibly();
    assertThat(group.openPerLoop()).containsExactlyInAnyOrder(2, 2, 2, 2);
  }

  private Channel register() {
    Channel c = new NioSocketChannel();
    group.register(c).syncUninterruptibly();
    channels.add(c);
    return c;
  }
}
