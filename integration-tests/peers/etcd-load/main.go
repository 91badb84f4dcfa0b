// etcd-load is the benchmark's load generator for etcd (docs/benchmark.md, "Peers"): C clients, each in a closed
// loop, put a value of the turn's size (two ~2 KB messages) under a key of their own through Go's clientv3, for a
// fixed time, and the program prints one JSON line with what it measured. The benchmark (PeerEtcd.java) starts
// etcd, runs this once unmeasured as a warm-up and once measured, and reads etcd's CPU and bytes written around
// the measured run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// outcome is the JSON line printed at the end; PeerEtcd parses it.
type outcome struct {
	Puts          int64   `json:"puts"`
	Seconds       float64 `json:"seconds"`
	PutsPerSecond float64 `json:"putsPerSecond"`
	P50Ms         float64 `json:"p50Ms"`
	P99Ms         float64 `json:"p99Ms"`
	Errors        int64   `json:"errors"`
	FirstError    string  `json:"firstError"`
	// The load generator's own CPU (user + system) over the measured loop, in ms.
	ClientCPUMs float64 `json:"clientCpuMs"`
}

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "etcd client URLs, comma-separated")
	clients := flag.Int("clients", 64, "concurrent clients, each putting in a closed loop")
	conns := flag.Int("conns", 4, "gRPC connections (clientv3 clients) the clients share")
	duration := flag.Duration("duration", 10*time.Second, "how long to put")
	valueBytes := flag.Int("value-bytes", 4096, "size of each put's value (a turn: two ~2 KB messages)")
	flag.Parse()
	if *clients < 1 || *conns < 1 || *valueBytes < 0 {
		fmt.Fprintln(os.Stderr, "etcd-load: -clients and -conns must be at least 1, -value-bytes at least 0")
		os.Exit(2)
	}

	var cs []*clientv3.Client
	for i := 0; i < *conns; i++ {
		c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","),
			DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			fmt.Fprintln(os.Stderr, "etcd-load: cannot connect:", err)
			os.Exit(1)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	value := strings.Repeat("x", *valueBytes)

	cpuBefore := cpuMillis()
	start := time.Now()
	end := start.Add(*duration)
	latencies := make([][]time.Duration, *clients)
	var mu sync.Mutex
	var errors int64
	firstError := ""
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			kv := cs[c%len(cs)]
			key := fmt.Sprintf("turn/%d", c)
			for time.Now().Before(end) {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				t0 := time.Now()
				_, err := kv.Put(ctx, key, value)
				took := time.Since(t0)
				cancel()
				if err != nil {
					mu.Lock()
					errors++
					if firstError == "" {
						firstError = err.Error()
					}
					tooMany := errors > 1000
					mu.Unlock()
					if tooMany {
						return
					}
					continue
				}
				latencies[c] = append(latencies[c], took)
			}
		}(c)
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	cpu := cpuMillis() - cpuBefore

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	o := outcome{Puts: int64(len(all)), Seconds: seconds, PutsPerSecond: float64(len(all)) / seconds,
		P50Ms: percentileMs(all, 50), P99Ms: percentileMs(all, 99), Errors: errors, FirstError: firstError,
		ClientCPUMs: cpu}
	line, _ := json.Marshal(o)
	fmt.Println(string(line))
}

// percentileMs is the value at percentile p of the sorted latencies (nearest rank), in ms; 0 without any.
func percentileMs(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i].Microseconds()) / 1000
}

// cpuMillis is this process's CPU so far (user + system), in ms.
func cpuMillis() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e6
}
