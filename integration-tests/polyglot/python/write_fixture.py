"""Cross-language check, writing side: saves a conversation of tricky messages from Python.

    python write_fixture.py ADDRESS THREAD_ID [OUT_FILE]

Saves the messages below (replacing any history THREAD_ID had), reads them back and checks them
byte for byte from Python too, then writes what every reader must get back, as JSON (ASCII only,
so the exact strings survive any file encoding), to OUT_FILE or stdout:

    {"thread_id": "...", "messages": [{"id": "...", "json": "<message text>"}, ...],
     "cache_info": {"name": 123, ...}}

Readers (Go: `client read ADDRESS THREAD_ID OUT_FILE`, and Java) compare each returned `json`
with the expected string byte for byte. Progress goes to stderr.
"""

import json
import sys

import grpc

from vmpilot.conversation.v1 import conversation_service_pb2 as pb
from vmpilot.conversation.v1 import conversation_service_pb2_grpc as pb_grpc

# (id, message text). Raw strings keep JSON escapes such as \u00e9 exactly as written.
MESSAGES = [
    # JSON escapes kept as written, not decoded: \u00e9, \", \\, \/, \t
    ("sys", r'{"role":"system","content":"You are VMPilot. Caf\u00e9, na\u00efve, \"quoted\", '
            r'back\\slash, sol\/idus, tab\there"}'),
    # Raw UTF-8 (2-, 3- and 4-byte characters, emoji, a decomposed e + U+0301), an escaped
    # surrogate pair, escaped control characters, content blocks with cache_control.
    ("", '{"role": "user", "content": [{"type": "text", "text": "h\u00e9llo w\u00f6rld \U0001F680 '
         '\U0001D11E \u4e2d\u6587 \u2014 e\u0301", "cache_control": {"type": "ephemeral"}}, '
         r'{"type": "text", "text": "\ud83d\ude80 escaped rocket, \u0000 nul, \u001f, \u2028"}]}'),
    # OpenAI-style tool call whose arguments are JSON text (with escaped quotes inside).
    ("call-1", r'{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123",'
               r'"type":"function","function":{"name":"shell",'
               r'"arguments":"{\"command\": \"grep -rn \\\"TODO\\\" src/\", \"timeout\": 10}"}}]}'),
    ("", r'{"role":"tool","tool_call_id":"call_abc123",'
         r'"content":"src/main.py:3: # TODO\nsrc/app.py:9: # TODO\n"}'),
    # Numbers a double or a Struct would change.
    ("nums", '{"role":"assistant","content":"numbers","big":9007199254740993,"float":10.0,'
             '"int":10,"neg_zero":-0,"exp":1E+2,"small":1.5e-7,'
             '"precise":0.1000000000000000055511151231257827,"arr":[1,1.0,1e0,-0.0]}'),
    # Odd white space between tokens, around the object and inside strings.
    ("ws", ' \t{ "role" :\t"user" ,\r\n  "content"  :  "odd   white\\tspace  "\n,"empty":{ },'
           '"list":[ ] }\n'),
    # A LangChain message dict, as VMPilot stored them first.
    ("", '{"type":"human","data":{"content":"LangChain dict","additional_kwargs":{},'
         '"response_metadata":{},"type":"human","name":null,"id":null,"example":false}}'),
    # Key order that is not sorted, nested.
    ("order", '{"z":1,"a":2,"m":{"y":true,"b":null,"k":[{"z":0,"a":0}]}}'),
    ("", "{}"),
]
CACHE_INFO = {"cache_creation_input_tokens": 1234, "cache_read_input_tokens": 5678,
              "big": 9007199254740993}


def main(address: str, thread_id: str, out_file: str | None) -> None:
    with grpc.insecure_channel(address) as channel:
        store = pb_grpc.ConversationServiceStub(channel)
        saved = store.Save(pb.SaveRequest(
            thread_id=thread_id,
            messages=[pb.Message(id=i, json=text) for i, text in MESSAGES],
            cache_info=CACHE_INFO,
            metadata={"written_by": "python write_fixture.py"},
        ), timeout=30)
        print(f"saved {saved.message_count} messages to {thread_id} (version {saved.version})",
              file=sys.stderr)
        got = store.Get(pb.GetRequest(thread_id=thread_id), timeout=30).conversation
    assert len(got.messages) == len(MESSAGES), f"{len(got.messages)} messages read back"
    for n, (message, (i, text)) in enumerate(zip(got.messages, MESSAGES)):
        assert message.json.encode() == text.encode(), f"message {n}: {message.json!r} != {text!r}"
        assert message.id == i, f"message {n}: id {message.id!r} != {i!r}"
    for key, value in CACHE_INFO.items():
        assert got.cache_info[key] == value, f"cache_info[{key}] = {got.cache_info[key]}"
    print("python read back every message byte for byte", file=sys.stderr)

    fixture = json.dumps({
        "thread_id": thread_id,
        "messages": [{"id": i, "json": text} for i, text in MESSAGES],
        "cache_info": CACHE_INFO,
    }, ensure_ascii=True, indent=1)
    if out_file:
        with open(out_file, "w", encoding="ascii") as f:
            f.write(fixture + "\n")
        print(f"expected messages written to {out_file}", file=sys.stderr)
    else:
        print(fixture)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: write_fixture.py ADDRESS THREAD_ID [OUT_FILE]")
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
    except (AssertionError, grpc.RpcError) as failure:
        print(f"FAIL: {failure!r}", file=sys.stderr)
        sys.exit(1)
