#!/usr/bin/env python3
# What the search index (an FTS5 table like V9's message_text) adds to a batch of the writer's, outside the server
# (docs/benchmark.md, "What the search index costs a durable turn, pinned"): commits batches of 60 ~2 KB messages
# into a plain table, then the same with a contentless FTS5 index beside it (and with automerge 8), twice each,
# and prints each run's total and the per-batch p50 / p99 / p99.9 / max. Python's own sqlite3; a scratch file in /tmp.
import sqlite3, random, time, os
words=["the","agent","reads","file","src","main","App","java","and","runs","tests","error","expected","value","at","line","42","patch","applied","build","ok","refactor","function"]
r=random.Random(42)
msgs=[" ".join(r.choice(words) for _ in range(330)) for _ in range(500)]
def run(kind, opts={}, batches=3000, per=60):
    p="/tmp/fts-%d.db"%os.getpid()
    for s in ("","-wal","-shm"):
        try: os.remove(p+s)
        except OSError: pass
    c=sqlite3.connect(p, isolation_level=None); c.execute("pragma journal_mode=wal"); c.execute("pragma synchronous=off")
    c.execute("create table m(id integer primary key, body text)")
    if kind=="fts":
        c.execute("create virtual table t using fts5(body, content='', tokenize='unicode61 remove_diacritics 0')")
        for k,v in opts.items(): c.execute("insert into t(t, rank) values(?,?)",(k,v))
    rowid=0; ts=[]
    for b in range(batches):
        t0=time.perf_counter(); c.execute("begin")
        for i in range(per):
            rowid+=1; c.execute("insert into m(id, body) values(?,?)",(rowid,msgs[rowid%500]))
            if kind=="fts": c.execute("insert into t(rowid, body) values(?,?)",(rowid,msgs[rowid%500]))
        c.execute("commit"); ts.append(time.perf_counter()-t0)
    ts2=sorted(ts); n=len(ts)
    c.close()
    for s in ("","-wal","-shm"):
        try: os.remove(p+s)
        except OSError: pass
    print(kind, opts, "total %.1fs p50 %.2f p99 %.2f p999 %.2f max %.1f ms"%(sum(ts), ts2[n//2]*1e3, ts2[int(n*.99)]*1e3, ts2[int(n*.999)]*1e3, ts2[-1]*1e3), flush=True)
for i in range(2):
    run("plain"); run("fts"); run("fts",{"automerge":8})
