package io.vmpilot.conversation.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Code;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The routes come from the proto's google.api.http rules: one for each RPC. */
class RouteTableTest {
  private final RouteTable routes = RouteTable.of(ConversationServiceGrpc.getServiceDescriptor());

  @Test
  void everyRpcHasItsRoute() {
    Set<String> all = routes.routes().stream()
        .map(r -> r.httpMethod() + " " + r.path() + " -> " + r.method().getBareMethodName())
        .collect(Collectors.toSet());
    assertThat(all).containsExactlyInAnyOrder(
        "POST /v1/conversations/{thread_id}:save -> Save",
        "GET /v1/conversations/{thread_id} -> Get",
        "POST /v1/conversations/{thread_id}:updateCache -> UpdateCache",
        "DELETE /v1/conversations/{thread_id} -> Clear",
        "POST /v1/conversations/{thread_id}:append -> Append",
        "GET /v1/conversations -> List",
        "POST /v1/conversations/{thread_id}:updateMetadata -> UpdateMetadata",
        "POST /v1/conversations/{thread_id}:fork -> Fork",
        "GET /v1/conversations:search -> Search");
  }

  @Test
  void lookupsFindTheRouteOrSayWhichMethodsThePathTakes() {
    assertThat(routes.find("POST", "/v1/conversations/t:append")).isInstanceOfSatisfying(RouteTable.Found.class,
        f -> assertThat(f.route().method().getBareMethodName()).isEqualTo("Append"));
    assertThat(routes.find("PUT", "/v1/conversations/t")).isEqualTo(new RouteTable.WrongMethod(
        java.util.List.of("GET", "DELETE")));
    assertThat(routes.find("GET", "/v1/other")).isInstanceOf(RouteTable.NoRoute.class);
  }

  @Test
  void queryParametersSetFieldsByEitherNameAndMapsByKey() {
    GetRequest.Builder get = GetRequest.newBuilder();
    QueryParameters.apply("maxMessages=5&start_position=2", get, Set.of("thread_id"));
    assertThat(get.getMaxMessages()).isEqualTo(5);
    assertThat(get.getStartPosition()).isEqualTo(2);
    ListRequest.Builder list = ListRequest.newBuilder();
    QueryParameters.apply("metadataFilter%5Bproject_root%5D=%2Fsrc%2Fapp&metadata_filter[run]=a+b", list, Set.of());
    assertThat(list.getMetadataFilterMap()).containsEntry("project_root", "/src/app").containsEntry("run", "a b");
  }

  @Test
  void grpcCodesMapToTheirHttpStatus() {
    assertThat(HttpStatusCodes.of(Code.INVALID_ARGUMENT)).isEqualTo(400);
    assertThat(HttpStatusCodes.of(Code.UNAUTHENTICATED)).isEqualTo(401);
    assertThat(HttpStatusCodes.of(Code.PERMISSION_DENIED)).isEqualTo(403);
    assertThat(HttpStatusCodes.of(Code.NOT_FOUND)).isEqualTo(404);
    assertThat(HttpStatusCodes.of(Code.ABORTED)).isEqualTo(409);
    assertThat(HttpStatusCodes.of(Code.RESOURCE_EXHAUSTED)).isEqualTo(429);
    assertThat(HttpStatusCodes.of(Code.DATA_LOSS)).isEqualTo(500);
    assertThat(HttpStatusCodes.of(Code.UNAVAILABLE)).isEqualTo(503);
    assertThat(HttpStatusCodes.of(Code.DEADLINE_EXCEEDED)).isEqualTo(504);
    assertThat(HttpStatusCodes.of(99)).isEqualTo(500);
  }
}
