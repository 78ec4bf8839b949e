package recovery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/harness"
)

// Survivor is a node that is still up: its name and a DSN from the host.
type Survivor struct {
	Name string
	DSN  string
	// NetworkDSN is how the other nodes reach it (needed only by Spock's
	// recover_run, which connects node to node); may be empty.
	NetworkDSN string
	// DirectDSN (may be empty) reaches it from here past a port proxy
	// (harness.Node.DirectDSN); the source's slot is streamed over it when
	// it proves to reach this survivor.
	DirectDSN string
	// Samples (may be empty) are durable samples of this survivor's
	// origin for the failed node, oldest first, as a Keeper took them
	// (Keeper.Samples). When this survivor is the source, the reference
	// recovery streams its slot from the newest sample at or below every
	// target's position (see StreamStart).
	Samples []OriginSample
}

// Input is what a strategy needs: DSNs only, no live cluster object, so
// recovery can run against any set of reachable servers.
type Input struct {
	// Survivors are the nodes to recover (at least one).
	Survivors []Survivor
	// Failed is the name of the failed node (e.g. "n1").
	Failed string
	// Flavor is the replication flavor's name ("pglogical" or "spock").
	Flavor string
	// DB is the replicated database (default "postgres").
	DB string
	// StepTimeout bounds each wait and each server call (default 60s).
	StepTimeout time.Duration
	// Logger receives progress (default slog.Default()).
	Logger *slog.Logger
	// Standby (may be nil) holds connections opened ahead
	// (slots.Standby): the reference recovery takes each survivor's from
	// it instead of logging in.
	Standby ConnsAhead
	// Keeper (may be nil) is the recovery slot keeper running beside the
	// cluster (slots.Keeper): the reference recovery pauses its rounds
	// while it runs.
	Keeper Pauser
}

// Kept is a survivor's session and replication connection opened ahead
// of any failure; Repl may be nil (it could not be opened: the recovery
// opens its own). Via says how Repl reached the node.
type Kept struct {
	Session *pgx.Conn
	Repl    *pgconn.PgConn
	Via     string
}

// ConnsAhead hands over, once, a survivor's connections opened ahead
// (nil: none).
type ConnsAhead interface {
	Take(node string) *Kept
}

// Pauser is a background service a recovery pauses while it runs.
type Pauser interface {
	Pause() (resume func())
}

// TakeKept is node's connections opened ahead, if any.
func (in Input) TakeKept(node string) *Kept {
	if in.Standby == nil {
		return nil
	}
	return in.Standby.Take(node)
}

// PauseKeeper pauses the keeper, if any, until resume is called.
func (in Input) PauseKeeper() (resume func()) {
	if in.Keeper == nil {
		return func() {}
	}
	return in.Keeper.Pause()
}

// SetDefaults checks the input and fills in the defaults.
func (in *Input) SetDefaults() error {
	if len(in.Survivors) == 0 {
		return fmt.Errorf("recovery of %s: no survivors given", in.Failed)
	}
	if in.Failed == "" {
		return fmt.Errorf("recovery: no failed node given")
	}
	for _, s := range in.Survivors {
		if s.Name == in.Failed {
			return fmt.Errorf("recovery of %s: it is listed as a survivor", in.Failed)
		}
	}
	if in.Flavor == "" {
		in.Flavor = "pglogical"
	}
	if in.DB == "" {
		in.DB = DefaultDB
	}
	if in.StepTimeout == 0 {
		in.StepTimeout = 60 * time.Second
	}
	if in.Logger == nil {
		in.Logger = slog.Default()
	}
	return nil
}

// InputFromCluster builds the input for recovering failed on a cluster:
// every other node is a survivor.
func InputFromCluster(c *harness.Cluster, failed string) Input {
	in := Input{Failed: failed, Flavor: c.Flavor.Name()}
	for _, n := range c.Nodes {
		if n.Name != failed {
			in.Survivors = append(in.Survivors, SurvivorOf(n))
		}
	}
	return in
}

// SurvivorOf is node n as a Survivor: its name and addresses (no samples).
func SurvivorOf(n *harness.Node) Survivor {
	return Survivor{Name: n.Name, DSN: n.DSN, NetworkDSN: n.NetworkDSN, DirectDSN: n.DirectDSN}
}

// Strategy recovers the failed node's transactions on the survivors.
// Recover always returns a Result (also with an error), which records what
// was done up to the failure.
type Strategy interface {
	Name() string
	Recover(ctx context.Context, in Input) (*Result, error)
}
