"""What a pause costs a round trip on this machine, apart from any server: two threads of one Python process
bounce a byte over loopback TCP, back to back and after each pause, once on the same CPU and once on two
(docs/benchmark.md, "What a pause costs outside the server"). Run: python3 docs/experiments/cold-wake-pingpong.py"""
import os
import socket
import statistics
import threading
import time


def measure(server_cpu, client_cpu):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def echo():
        os.sched_setaffinity(0, {server_cpu})
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := conn.recv(64):
            conn.sendall(data)

    threading.Thread(target=echo, daemon=True).start()
    os.sched_setaffinity(0, {client_cpu})
    client = socket.create_connection(listener.getsockname())
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for pause in (0, 0.1, 1.0):
        rtts = []
        for _ in range(30 if pause else 2000):
            if pause:
                time.sleep(pause)
            start = time.perf_counter_ns()
            client.sendall(b"x")
            client.recv(64)
            rtts.append((time.perf_counter_ns() - start) / 1000)
        print(f"  server thread on CPU {server_cpu}, client on {client_cpu}, pause {pause} s: "
              f"p50 {statistics.median(rtts):.0f} us")
    client.close()
    os.sched_setaffinity(0, set(range(os.cpu_count())))


measure(0, 0)
measure(1, 0)
