package io.vmpilot.conversation.it;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal HTTP/2 client over a plain socket (prior knowledge, no TLS) that writes whatever frames a test asks for,
 * including ones no gRPC library would send: a garbage {@code grpc-timeout}, a wrong length prefix, the compressed
 * flag without an encoding. Only HPACK comes from Netty (the copy shaded into grpc-java); framing is by hand.
 */
final class RawHttp2 implements AutoCloseable {
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int ACK = 0x1;

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final DefaultHttp2HeadersEncoder encoder =
      new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, false);
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
  private final String authority;
  private int nextStream = 1;

  /** How one stream ended: the headers it got (response headers and trailers together), or a reset. */
  record Outcome(Map<String, String> headers, Integer resetCode, boolean connectionClosed) {
    String grpcStatus() {
      return headers.get("grpc-status");
    }
  }

  private RawHttp2(Socket socket, String authority) throws IOException {
    this.socket = socket;
    this.authority = authority;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    frame(SETTINGS, 0, 0, new byte[0]);
    out.flush();
  }

  static RawHttp2 connect(int port) throws IOException {
    Socket socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout((int) Rpc.DEADLINE.toMillis());
    return new RawHttp2(socket, "127.0.0.1:" + port);
  }

  /** The request headers of a gRPC call to {@code method} of the conversation service, in order; add to them. */
  Map<String, String> grpcHeaders(String method) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(":method", "POST");
    h.put(":scheme", "http");
    h.put(":path", "/vmpilot.conversation.v1.ConversationService/" + method);
    h.put(":authority", authority);
    h.put("content-type", "application/grpc");
    h.put("te", "trailers");
    return h;
  }

  /** Opens a stream with {@code headers}; returns its id. */
  int headers(Map<String, String> headers, boolean endStream) throws IOException {
    int stream = nextStream;
    nextStream += 2;
    DefaultHttp2Headers h = new DefaultHttp2Headers(false);
    headers.forEach(h::add);
    ByteBuf block = Unpooled.buffer();
    try {
      encoder.encodeHeaders(stream, h, block);
    } catch (Http2Exception e) {
      throw new IOException(e);
    }
    byte[] bytes = new byte[block.readableBytes()];
    block.readBytes(bytes);
    block.release();
    frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, bytes);
    out.flush();
    return stream;
  }

  /** A DATA frame carrying {@code payload} as it is (a gRPC message needs its 5-byte prefix: see {@link #grpcFrame}). */
  void data(int stream, byte[] payload, boolean endStream) throws IOException {
    frame(DATA, endStream ? END_STREAM : 0, stream, payload);
    out.flush();
  }

  /** A gRPC length-prefixed message: the compressed flag, the length it claims, then {@code body}. */
  static byte[] grpcFrame(boolean compressedFlag, int claimedLength, byte[] body) {
    byte[] framed = new byte[5 + body.length];
    framed[0] = (byte) (compressedFlag ? 1 : 0);
    framed[1] = (byte) (claimedLength >>> 24);
    framed[2] = (byte) (claimedLength >>> 16);
    framed[3] = (byte) (claimedLength >>> 8);
    framed[4] = (byte) claimedLength;
    System.arraycopy(body, 0, framed, 5, body.length);
    return framed;
  }

  /**
   * Reads frames (answering SETTINGS and PING, skipping other streams) until {@code stream} ends: headers with
   * END_STREAM, a RST_STREAM, or the connection closing.
   */
  Outcome awaitEnd(int stream) throws IOException {
    Map<String, String> seen = new LinkedHashMap<>();
    while (true) {
      int length;
      try {
        length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
      } catch (EOFException | java.net.SocketException e) {
        return new Outcome(seen, null, true);
      }
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int id = in.readInt() & 0x7fffffff;
      byte[] payload = new byte[length];
      in.readFully(payload);
      switch (type) {
        case SETTINGS -> {
          if ((flags & ACK) == 0) {
            frame(SETTINGS, ACK, 0, new byte[0]);
            out.flush();
          }
        }
        case PING -> {
          if ((flags & ACK) == 0) {
            frame(PING, ACK, 0, payload);
            out.flush();
          }
        }
        case GOAWAY -> {
          return new Outcome(seen, null, true);
        }
        case HEADERS -> {
          Http2Headers decoded;
          try {
            decoded = decoder.decodeHeaders(id, Unpooled.wrappedBuffer(payload));
          } catch (Http2Exception e) {
            throw new IOException(e);
          }
          if (id == stream) {
            decoded.forEach(e -> seen.put(e.getKey().toString(), e.getValue().toString()));
            if ((flags & END_STREAM) != 0) {
              return new Outcome(seen, null, false);
            }
          }
        }
        case RST_STREAM -> {
          if (id == stream) {
            return new Outcome(seen, java.nio.ByteBuffer.wrap(payload).getInt(), false);
          }
        }
        case DATA -> {
          if (id == stream && (flags & END_STREAM) != 0) {
            return new Outcome(seen, null, false);
          }
        }
        default -> { }
      }
    }
  }

  private void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    out.writeByte(payload.length >>> 16);
    out.writeByte(payload.length >>> 8);
    out.writeByte(payload.length);
    out.writeByte(type);
    out.writeByte(flags);
    out.writeInt(stream);
    out.write(payload);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
