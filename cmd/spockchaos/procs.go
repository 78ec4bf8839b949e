package main

import (
	"os"
	"runtime"
)

// limitProcs sets GOMAXPROCS to a quarter of the CPUs (at least one)
// unless the GOMAXPROCS environment variable chooses. The harness mostly
// waits on PostgreSQL servers that run on the same machine; with more Ps
// than it needs, Go's scheduler spins idle threads and trades wakeups
// between them, CPU the nodes then lack. Measured on 2 cores with
// `bench workload` (3 nodes x 2 clients): 2 Ps gave 0.86 of pgbench's
// throughput, 1 P 1.00.
func limitProcs() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)/4))
}
