package io.vmpilot.conversation.server.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The Netty event loops the gRPC port's connections are served on (threads {@code grpc-network-*}), one thread per
 * connection while there are no more connections than threads ({@link LeastBusyEventLoops}), and the one that
 * accepts them.
 *
 * <p>Why more than grpc-java's default (twice the processors): a thread serves each of its connections in turn, so
 * a connection receiving or sending large messages holds up the others on its thread, while a connection with a
 * thread of its own is run by the kernel's scheduler as soon as its request arrives (the bystander's figures are in
 * docs/guarantees.md, "Network threads"). Idle event loops cost a parked thread each.
 */
final class NetworkThreads {
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Class<? extends ServerChannel> channelType;

  private NetworkThreads(int threads) {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("grpc-accept", true), io);
    this.workers = new LeastBusyEventLoops(threads, new DefaultThreadFactory("grpc-network", true), io);
    this.channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** {@code threads} event loops for {@code builder}'s connections; {@link #close} them after the server stops. */
  static NetworkThreads on(NettyServerBuilder builder, int threads) {
    NetworkThreads t = new NetworkThreads(threads);
    builder.bossEventLoopGroup(t.boss).workerEventLoopGroup(t.workers).channelType(t.channelType);
    return t;
  }

  /** Stops the event loops (grpc-java leaves groups it was given running). */
  void close() {
    boss.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
  }
}
