"""Client of the VMPilot conversation store.

    from vmpilot_conversation_store import ConversationClient

    with ConversationClient("localhost:50051") as store:
        store.save("thread-1", ['{"role":"user","content":"hi"}'], cache_info={"input_tokens": 10})
        conversation = store.get("thread-1")

Also here: AsyncConversationClient (asyncio), vmpilot_conversation_store.vmpilot (VMPilot's four functions),
vmpilot_conversation_store.langchain (a LangChain chat message history; `pip install ...[langchain]`) and
vmpilot_conversation_store.stubs (the generated gRPC stubs).
"""

from .aio import AsyncConversationClient
from .client import ConversationClient
from .errors import (
    ConversationNotFoundError,
    ConversationStoreError,
    FieldViolation,
    InvalidCacheInfoError,
    VersionConflictError,
)
from ._watch import AsyncWatch, Watch
from .types import (
    AppendResult,
    BackupResult,
    ChangeEvent,
    Conversation,
    ConversationPage,
    ConversationRecord,
    ConversationSummary,
    ForkResult,
    ImportFailure,
    ImportResult,
    Message,
    SaveResult,
    SearchPage,
    SearchResult,
    ServerStatus,
)

__all__ = [
    "AppendResult",
    "AsyncConversationClient",
    "AsyncWatch",
    "BackupResult",
    "ChangeEvent",
    "Conversation",
    "ConversationClient",
    "ConversationNotFoundError",
    "ConversationPage",
    "ConversationRecord",
    "ConversationStoreError",
    "ConversationSummary",
    "FieldViolation",
    "ForkResult",
    "ImportFailure",
    "ImportResult",
    "InvalidCacheInfoError",
    "Message",
    "SaveResult",
    "SearchPage",
    "SearchResult",
    "ServerStatus",
    "VersionConflictError",
    "Watch",
]
