package workload

import (
	"maps"
	"sync"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// NodeStats counts the completed ops of the clients on one node.
type NodeStats struct {
	Ok   int64 `json:"ok"`
	Fail int64 `json:"fail"`
	Info int64 `json:"info"`
	// Clients is the number of clients still issuing to the node.
	Clients int `json:"clients"`
}

// Ops is the number of completed ops.
func (n NodeStats) Ops() int64 { return n.Ok + n.Fail + n.Info }

// Stats is what a run (or a part of it) did.
type Stats struct {
	Elapsed time.Duration        `json:"elapsed"`
	Ok      int64                `json:"ok"`
	Fail    int64                `json:"fail"`
	Info    int64                `json:"info"`
	PerNode map[string]NodeStats `json:"per_node"`
	// Reasons counts fail and info completions by reason.
	Reasons map[string]int64 `json:"reasons,omitempty"`
	// ClientsGaveUp is the number of clients that stopped because their
	// node (and, with Failover, every node) refused connections.
	ClientsGaveUp int `json:"clients_gave_up"`
}

// Ops is the number of completed ops.
func (s Stats) Ops() int64 { return s.Ok + s.Fail + s.Info }

// Rate is completed ops per second of Elapsed.
func (s Stats) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Ops()) / s.Elapsed.Seconds()
}

// counters accumulates Stats from many clients.
type counters struct {
	mu    sync.Mutex
	start time.Time
	s     Stats
}

func newCounters(nodes []Target) *counters {
	c := &counters{start: time.Now(), s: Stats{PerNode: map[string]NodeStats{}, Reasons: map[string]int64{}}}
	for _, n := range nodes {
		c.s.PerNode[n.Name] = NodeStats{}
	}
	return c
}

func (c *counters) complete(node string, out Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.s.PerNode[node]
	switch out.Type {
	case history.Ok:
		c.s.Ok++
		ns.Ok++
	case history.Fail:
		c.s.Fail++
		ns.Fail++
	default:
		c.s.Info++
		ns.Info++
	}
	if out.Reason != "" {
		c.s.Reasons[out.Reason]++
	}
	c.s.PerNode[node] = ns
}

func (c *counters) clients(node string, delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.s.PerNode[node]
	ns.Clients += delta
	c.s.PerNode[node] = ns
}

func (c *counters) gaveUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.ClientsGaveUp++
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Elapsed = time.Since(c.start)
	s.PerNode = maps.Clone(c.s.PerNode)
	s.Reasons = maps.Clone(c.s.Reasons)
	return s
}
