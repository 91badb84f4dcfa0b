"""The gRPC stubs generated from proto/ when the package was built, for what the client classes do not cover.

    from vmpilot_conversation_store.stubs import pb, pb_grpc
    pb.GetRequest(thread_id="t-1", max_messages=10)

`pb` holds the messages of vmpilot.conversation.v1, `pb_grpc` the ConversationService stub, `admin_pb` and
`admin_pb_grpc` those of ConversationAdminService (Export, Import, GetServerStatus, Backup); the error detail
types are google.rpc.error_details_pb2 (googleapis-common-protos).
"""

from ._generated.vmpilot.conversation.v1 import admin_service_pb2 as admin_pb
from ._generated.vmpilot.conversation.v1 import admin_service_pb2_grpc as admin_pb_grpc
from ._generated.vmpilot.conversation.v1 import conversation_service_pb2 as pb
from ._generated.vmpilot.conversation.v1 import conversation_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ConversationService"].full_name
ADMIN_SERVICE_NAME = admin_pb.DESCRIPTOR.services_by_name["ConversationAdminService"].full_name

__all__ = ["pb", "pb_grpc", "admin_pb", "admin_pb_grpc", "SERVICE_NAME", "ADMIN_SERVICE_NAME"]
