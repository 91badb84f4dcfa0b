/**
 * The API as HTTP/JSON, and the web viewer, on a port of their own ({@code --http-port}).
 *
 * <p>Every route is one of the {@code google.api.http} annotations of the proto (AIP-127), read from its
 * descriptor at start-up; a request is transcoded into the RPC's request message (path variables, query
 * parameters, a proto3-JSON body), called through an in-process channel to the very services, interceptors and
 * limits of the gRPC port ({@link io.vmpilot.conversation.server.grpc.GrpcServer#newInProcessChannel()}), and
 * the response or {@code google.rpc.Status} is written back as proto3 JSON. So there is one implementation of
 * every rule: validation, limits, authentication ({@code Authorization: Bearer}), tenants and error details are
 * the gRPC ones. What this package adds is only what HTTP itself needs: routing, transcoding, the gRPC-to-HTTP
 * status mapping, refusing requests from other web sites, TLS from the same PEM files, and the viewer's static
 * files (classpath {@code /viewer/}).
 *
 * <p>May use: the generated stubs, grpc-java's client API, protobuf-java-util's JsonFormat, the JDK's HTTP
 * server, {@code config.TlsFiles}. Knows nothing of the store.
 */
package io.vmpilot.conversation.server.http;
