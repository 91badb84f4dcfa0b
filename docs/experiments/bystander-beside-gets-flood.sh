#!/usr/bin/env bash
# The bystander beside the Gets flood (issue 23), server on core 0, clients on core 1 (docs/benchmark.md,
# 2026-12-07). usage: bystander-beside-gets-flood.sh JAR LABEL [extra server JVM flags...]
# RENICE=N renices the grpc-large threads to nice N while the server runs (the experiment of that section).
# MODE=small-flood measures the other side of the trade instead: the bystander is a client reading a 400 KB history
# (a large call) 10 times a second, beside 64 clients reading a 48 KB history (a small call) as fast as they can.
# BYSTANDER=get (gets-flood mode): the bystander reads its small conversation instead of appending to it.
# SERVER_ARGS: more arguments for the server.
# BYSTANDER_NICE=N: the bystander's ghz at nice N (e.g. -10: ahead of the flood's ghz on the clients' core).
set -u
jar=$1; label=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd); ghz=$root/.tools/bin/ghz; proto=$root/proto
d=$(mktemp -d)
# PIN=0: neither the server nor the clients pinned (both share every core, as on a machine that runs both).
if [ "${PIN:-1}" = 0 ]; then pin_server=; pin_clients=; else pin_server="taskset -c 0"; pin_clients="taskset -c 1"; fi
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
$pin_server java -Xms256m -Xmx1g -XX:+UseG1GC "$@" -jar "$jar" --port $port --database-path $d/db --database-durability normal --metrics-enabled=false ${SERVER_ARGS:-} > $d/server.log 2>&1 &
spid=$!
# Killed half-way, the script still stops the flood's loop and the server (a loop left behind floods the next run).
trap 'touch "$d/stop" 2>/dev/null; kill $spid 2>/dev/null' EXIT
trap 'exit 130' INT TERM
if [ -n "${RENICE:-}" ]; then ( declare -A done_; while kill -0 $spid 2>/dev/null; do for t in /proc/$spid/task/*; do tid=${t##*/}; [ -n "${done_[$tid]:-}" ] && continue; read -r c < $t/comm 2>/dev/null || continue; if [[ $c == grpc-large* ]]; then renice -n $RENICE -p $tid >/dev/null 2>&1; done_[$tid]=1; fi; done; sleep 0.2; done ) & fi
for i in $(seq 100); do grep -q "listening\|started\|Listening" $d/server.log && break; sleep 0.2; done
# call RPC [ghz flags...]: ghz on core 1 (the clients' core) calling ConversationService.RPC
call() { local rpc=$1; shift; ${CALL_NICE:+nice -n $CALL_NICE} $pin_clients $ghz --insecure --import-paths $proto,$proto/third_party/googleapis --proto vmpilot/conversation/v1/conversation_service.proto --call vmpilot.conversation.v1.ConversationService.$rpc "$@"; }
small='{"thread_id":"bystander","messages":[{"json":"{\"role\":\"user\",\"content\":\"hello\"}"}]}'
if [ "${MODE:-gets-flood}" = small-flood ]; then
  # The flood reads a 48 KB history (under the 64 KiB of a large call), which costs the server more than the
  # client, so that the server's core is the one kept busy.
  python3 - $d <<'P2'
import json,sys
msg=json.dumps({"role":"user","content":"y"*2000})
for name,n in (("long",200),("medium",24)):
    json.dump({"thread_id":name,"messages":[{"json":msg} for _ in range(n)]},open(sys.argv[1]+"/"+name+".json","w"))
P2
  for h in long medium; do call Save -n 1 -c 1 -D $d/$h.json 127.0.0.1:$port > $d/save-$h.txt 2>&1 || cat $d/save-$h.txt; done
  byst() { CALL_NICE=${BYSTANDER_NICE:-} call Get -c 1 --connections 1 --rps 10 -z $1 --duration-stop wait -d '{"thread_id":"long"}' -O json 127.0.0.1:$port; }
  flood() { call Get -c 64 --connections 8 -z 5s -d '{"thread_id":"medium"}' -O json 127.0.0.1:$port; }
else
  [ -f /tmp/bystander-save20.json ] || python3 - <<'P'
import json
msg=json.dumps({"role":"user","content":"x"*(1024*1024-40)})
json.dump({"thread_id":"big","messages":[{"json":msg} for _ in range(20)]},open("/tmp/bystander-save20.json","w"))
P
  call Save -n 1 -c 1 -D /tmp/bystander-save20.json --max-send-message-size=100000000 127.0.0.1:$port > $d/save.txt 2>&1 || cat $d/save.txt
  # BYSTANDER=get: the bystander Gets its small conversation instead (a read: no writer, no sync on its way).
  if [ "${BYSTANDER:-append}" = get ]; then
    call Append -n 1 -c 1 -d "$small" 127.0.0.1:$port > /dev/null
    byst() { CALL_NICE=${BYSTANDER_NICE:-} call Get -c 1 --connections 1 --rps 100 -z $1 --duration-stop wait -d '{"thread_id":"bystander"}' -O json 127.0.0.1:$port; }
  else
    byst() { CALL_NICE=${BYSTANDER_NICE:-} call Append -c 1 --connections 1 --rps 100 -z $1 --duration-stop wait -d "$small" -O json 127.0.0.1:$port; }
  fi
  flood() { call Get -c 200 --connections 8 -n 200 --max-recv-message-size=200000000 -d '{"thread_id":"big"}' -O json 127.0.0.1:$port; }
fi
# FLOOD_WARMUP=N: N rounds of the flood first, with the bystander, so that the JIT has compiled both paths before
# anything is measured (without it, C2 compiling the flood's path took a third of the server's core beside it).
for i in $(seq ${FLOOD_WARMUP:-0}); do flood > /dev/null 2>&1 & fw=$!; byst 3s > /dev/null; wait $fw; done
byst 3s > /dev/null
byst 10s > $d/alone.json
( while [ ! -f $d/stop ]; do flood >> $d/flood.jsonl 2>/dev/null; echo >> $d/flood.jsonl; done ) &
fl=$!
cpu() { awk '{print $14+$15}' /proc/$spid/stat; }
# The server's CPU by thread group (name without its number), for the beside phase's summary line.
threads() { python3 -c '
import os,re,sys
for t in os.listdir("/proc/%s/task" % sys.argv[1]):
    try: s=open("/proc/%s/task/%s/stat" % (sys.argv[1], t)).read()
    except OSError: continue
    f=s[s.rindex(")")+2:].split()
    print(t, int(f[11])+int(f[12]), re.sub(r"[-#]?[0-9]+$", "", s[s.index("(")+1:s.rindex(")")]).replace(" ", "_"))
' $spid; }
threads > $d/threads0.txt; c0=$(cpu); t0=$(date +%s.%N)
byst 15s > $d/beside.json
c1=$(cpu); t1=$(date +%s.%N); threads > $d/threads1.txt
echo "$c0 $c1 $t0 $t1 $(getconf CLK_TCK)" > $d/cpu.txt
touch $d/stop; wait $fl
kill $spid; wait $spid 2>/dev/null
python3 - "$d" "$label" <<'P'
import json,sys
d,label=sys.argv[1],sys.argv[2]
def lat(f):
    j=json.load(open(f)); ds=[x for x in j["latencyDistribution"]]
    p={x["percentage"]:x["latency"]/1e6 for x in ds}
    return "p50 %.1f p99 %.1f max %.1f n=%d codes=%s" % (p[50],p[99],j["slowest"]/1e6,j["count"],j["statusCodeDistribution"])
ok=0;tot=0
for line in open(d+"/flood.jsonl"):
    line=line.strip()
    if not line: continue
    try: j=json.loads(line)
    except Exception: continue
    tot+=j["count"]; ok+=j["statusCodeDistribution"].get("OK",0)
print(label,"alone:",lat(d+"/alone.json"))
c0,c1,t0,t1,hz=map(float,open(d+"/cpu.txt").read().split())
print(label,"beside:",lat(d+"/beside.json"),"flood OK %d/%d"%(ok,tot),"server CPU %.0f%% of a core"%(100*(c1-c0)/hz/(t1-t0)))
def threads(f): return {l.split()[0]:(int(l.split()[1]),l.split()[2]) for l in open(f)}
a,b=threads(d+"/threads0.txt"),threads(d+"/threads1.txt"); groups={}
for t,(c,name) in b.items(): groups[name]=groups.get(name,0)+c-a.get(t,(0,name))[0]
top=sorted(groups.items(),key=lambda x:-x[1])[:6]
print(label,"beside, server CPU by threads:",", ".join("%s %.0f%%"%(n,100*v/hz/(t1-t0)) for n,v in top))
P
# KEEP=1 keeps the run's directory (the server's log, the ghz JSON) and prints where it is.
if [ "${KEEP:-0}" = 1 ]; then echo "kept: $d"; else rm -rf "$d"; fi # the database and its 64 MiB disk reserve
