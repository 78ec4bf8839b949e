package workload

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Target is one node a workload talks to: its name (n1..nN) and a DSN
// reachable from where the workload runs.
type Target struct {
	Name string
	DSN  string
	// DSNNow, when set, is the node's DSN at the moment a client
	// connects (a restarted node may be published on another port).
	DSNNow func() string
}

// dsn is the DSN to connect to now.
func (t Target) dsn() string {
	if t.DSNNow != nil {
		return t.DSNNow()
	}
	return t.DSN
}

// Workload is a generator of client operations with its schema.
type Workload interface {
	// Name is the name Lookup knows it by.
	Name() string
	// Schema is the SQL of its tables; the caller applies it on every node
	// and puts it into replication (harness.Config.Schema or
	// Cluster.ApplySchema) before Setup.
	Schema() string
	// Setup writes the initial rows (on nodes[0] only; replication brings
	// them to the others) and records what checkers need to know (e.g. the
	// "bank-init" op). The caller then passes a barrier before Run.
	Setup(ctx context.Context, nodes []Target, rec *history.Recorder) error
	// Run drives clients on every node of cfg.Nodes until ctx is done or
	// cfg.Duration / cfg.OpCount is reached. Cancelling ctx is a normal
	// stop: clients issue nothing new and ops in flight complete honestly
	// (bounded by cfg.OpTimeout). A node that dies never fails Run; only a
	// harness problem (bad config) returns an error.
	Run(ctx context.Context, cfg RunConfig) (Stats, error)
}

// RunConfig is how Run drives its clients.
type RunConfig struct {
	// Nodes are the nodes clients talk to; clients are spread over all.
	Nodes []Target
	// Recorder receives every op (required).
	Recorder *history.Recorder
	// Seed drives every random choice; client i on node X uses a source
	// derived from Seed and its process id "X-c<i>".
	Seed int64
	// ClientsPerNode is the concurrency per node (default 2).
	ClientsPerNode int
	// Rate is the target rate in ops/s over all clients; 0 = unlimited.
	Rate float64
	// Duration stops issuing after this long; 0 = until ctx or OpCount.
	Duration time.Duration
	// OpCount stops issuing after this many ops in total; 0 = no limit.
	OpCount int
	// OpTimeout bounds one op (default 10 s); an op cut by it is info if
	// its COMMIT was in flight, fail otherwise.
	OpTimeout time.Duration
	// Reconnect is how long a client whose connection broke keeps trying
	// to reconnect to its node before it gives up (default 2 s).
	Reconnect time.Duration
	// Failover moves a client that gave up on its node to the next node
	// of Nodes that accepts connections; otherwise the client stops.
	Failover bool
	// TxnPrefix starts every transaction id this run writes (default
	// "s<seed>-"); use a fresh one to rerun a seed on a used cluster.
	TxnPrefix string
	// Progress, if set, receives a snapshot about once a second.
	Progress func(Stats)
	// Joined, if set, brings nodes that joined the cluster while the load
	// runs: each gets ClientsPerNode clients of its own from then on
	// (failing over, with Failover, to Nodes). With it, the load runs until
	// ctx is done or Duration passed, even when OpCount is spent.
	Joined <-chan Target
}

func (cfg *RunConfig) setDefaults() error {
	if len(cfg.Nodes) == 0 {
		return fmt.Errorf("run workload: no nodes")
	}
	if cfg.Recorder == nil {
		return fmt.Errorf("run workload: no history recorder")
	}
	if cfg.ClientsPerNode == 0 {
		cfg.ClientsPerNode = 2
	}
	if cfg.ClientsPerNode < 0 || cfg.Rate < 0 || cfg.OpCount < 0 || cfg.Duration < 0 {
		return fmt.Errorf("run workload: negative clients, rate, op count or duration")
	}
	if cfg.OpTimeout == 0 {
		cfg.OpTimeout = 10 * time.Second
	}
	if cfg.Reconnect == 0 {
		cfg.Reconnect = 2 * time.Second
	}
	if cfg.TxnPrefix == "" {
		cfg.TxnPrefix = fmt.Sprintf("s%d-", cfg.Seed)
	}
	return nil
}

var registry = map[string]func() Workload{
	"ledger":                    func() Workload { return &Ledger{} },
	"bank":                      func() Workload { return &Bank{} },
	"hotkey":                    func() Workload { return &Hotkey{} },
	"conflict":                  func() Workload { return &Conflict{} },
	"conflict-no-delete":        func() Workload { return &Conflict{NoDeletes: true} },
	"ycsb":                      func() Workload { return &YCSB{} },
	"toast":                     func() Workload { return &Toast{} },
	"pk-race":                   func() Workload { return &PKRace{} },
	"delta-counter":             func() Workload { return &DeltaCounter{} },
	"unique-conflict":           func() Workload { return &UniqueConflict{} },
	"unique-conflict-no-delete": func() Workload { return &UniqueConflict{NoDeletes: true} },
}

func init() {
	registry["schema-features"] = func() Workload { return &SchemaFeatures{} }
	for _, f := range SchemaFeatureNames() {
		registry["schema-"+f] = func() Workload { return &SchemaFeatures{Only: f, FKDeletes: f == FeatureForeignKey} }
	}
	for _, mix := range ycsbMixNames() {
		registry["ycsb-"+mix] = func() Workload { return &YCSB{Mix: mix} }
	}
}

// Names lists the workloads Lookup knows, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the workload called name with its default parameters.
// "ycsb" is YCSB core workload A; "ycsb-a".."ycsb-f" name a mix.
func Lookup(name string) (Workload, error) {
	newW, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return newW(), nil
}

// ProcessID is the history process of client i on node.
func ProcessID(node string, i int) string { return fmt.Sprintf("%s-c%d", node, i) }

// NodeNames lists the names of targets.
func NodeNames(targets []Target) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.Name
	}
	return slices.Clip(out)
}
