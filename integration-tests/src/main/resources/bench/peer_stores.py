"""The benchmark's Python peers (docs/benchmark.md, "Peers"): the stores agent developers use from PyPI, driven the
way an agent uses them. One conversation grows by agent turns (a ~2 KB user message and a ~2 KB assistant message),
and at each size given with --at (in messages) the next --turns turns are measured: wall time, this process's CPU
and the bytes it caused to be written (Linux /proc/self/io write_bytes), per turn. Prints one JSON line per size;
lines starting with '#' are information. Exit code 3: the store's package cannot be imported (the benchmark then
skips this peer and says so).

  python peer_stores.py --store langgraph --dir DIR --at 10,1000,2000 --turns 50
  python peer_stores.py --store langchain --dir DIR --at 10,1000,2000 --turns 50

langgraph: LangGraph's SqliteSaver under a one-node graph (MessagesState: the node answers with the assistant
message), invoked once per turn with the user message, durability="sync" (each checkpoint written before invoke
returns). langchain: LangChain's SQLChatMessageHistory on a SQLite file (SQLAlchemy), add_messages of the turn's
two messages (one transaction).
"""

import argparse
import json
import os
import random
import sys
import time

MESSAGE_BYTES = 2048
_WORDS = ["the", "agent", "reads", "file", "src/main/App.java", "and", "runs", "tests", "error:", "expected",
          "value", "at", "line", "42", "patch", "applied", "build", "ok", "refactor", "function"]
_rng = random.Random(42)
_FILLER = " ".join(_rng.choice(_WORDS) for _ in range(12000))


def text(seed, size):
    """About size characters of text, from a place that depends on seed (as the Java benchmark's messages)."""
    start = (seed * 7919) % (len(_FILLER) - size - 1)
    return _FILLER[start:start + size]


def written_bytes():
    """Bytes this process caused to be sent to storage so far (Linux), or None where unknown."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list; 0.0 for an empty one."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


class LangGraphStore:
    name = "langgraph"

    def __init__(self, directory):
        import sqlite3
        from langchain_core.messages import AIMessage, HumanMessage
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.graph import START, MessagesState, StateGraph

        self._human = HumanMessage
        conn = sqlite3.connect(os.path.join(directory, "checkpoints.sqlite"), check_same_thread=False)
        saver = SqliteSaver(conn)
        saver.setup()

        def agent(state):
            n = len(state["messages"])
            return {"messages": [AIMessage(content=text(n, MESSAGE_BYTES))]}

        graph = StateGraph(MessagesState)
        graph.add_node("agent", agent)
        graph.add_edge(START, "agent")
        self._graph = graph.compile(checkpointer=saver)
        self._config = {"configurable": {"thread_id": "bench"}}
        self.pragmas = {p: conn.execute("PRAGMA " + p).fetchone()[0] for p in ("journal_mode", "synchronous")}

    def turn(self, n):
        self._graph.invoke({"messages": [self._human(content=text(n, MESSAGE_BYTES))]}, self._config,
                           durability="sync")


class LangChainStore:
    name = "langchain"

    def __init__(self, directory):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # langchain-community's deprecation notice
            from langchain_community.chat_message_histories import SQLChatMessageHistory
        from langchain_core.messages import AIMessage, HumanMessage

        self._human, self._ai = HumanMessage, AIMessage
        path = os.path.join(directory, "history.sqlite")
        self._history = SQLChatMessageHistory(session_id="bench", connection="sqlite:///" + path)
        with self._history.engine.connect() as c:
            self.pragmas = {p: c.exec_driver_sql("PRAGMA " + p).scalar() for p in ("journal_mode", "synchronous")}

    def turn(self, n):
        self._history.add_messages([self._human(content=text(n, MESSAGE_BYTES)),
                                    self._ai(content=text(n + 1, MESSAGE_BYTES))])


STORES = {"langgraph": LangGraphStore, "langchain": LangChainStore}


def measure(store, turns, first_turn):
    """Runs turns turns from first_turn on; returns their figures (latencies in ms, CPU in ms and bytes per turn)."""
    latencies = []
    cpu0, bytes0, wall0 = time.process_time(), written_bytes(), time.perf_counter()
    for t in range(first_turn, first_turn + turns):
        t0 = time.perf_counter()
        store.turn(2 * t)
        latencies.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - wall0
    cpu = (time.process_time() - cpu0) * 1000
    bytes1 = written_bytes()
    latencies.sort()
    return {"turns": turns, "seconds": wall, "turnsPerSecond": turns / wall if wall > 0 else 0.0,
            "p50Ms": percentile(latencies, 50), "p99Ms": percentile(latencies, 99), "cpuMsPerTurn": cpu / turns,
            "bytesWrittenPerTurn": None if bytes0 is None or bytes1 is None else (bytes1 - bytes0) / turns}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=sorted(STORES), required=True)
    parser.add_argument("--dir", required=True, help="a directory for the store's SQLite file")
    parser.add_argument("--at", default="10,1000,2000", help="conversation sizes (messages) to measure at")
    parser.add_argument("--turns", type=int, default=50, help="turns measured at each size")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.at.split(","))
    try:
        store = STORES[args.store](args.dir)
    except ImportError as e:
        print(f"# cannot import the {args.store} store's package: {e}", flush=True)
        return 3
    print("# " + json.dumps({"store": store.name, "pragmas": store.pragmas}), flush=True)
    turn = 0
    for size in sizes:
        while 2 * turn < size:  # grow, unmeasured, to the size
            store.turn(2 * turn)
            turn += 1
        row = {"store": store.name, "messages": 2 * turn}
        row.update(measure(store, args.turns, turn))
        turn += args.turns
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
