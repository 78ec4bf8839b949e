package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload"
)

// A rejoin step (rejoin.go) brings a node killed and recovered earlier
// back: restart, the survivors' subscriptions from it enabled again, the
// whole mesh replicating and a barrier; it then counts as alive, so every
// checker judges it too. Before and after, the survivors' ledger rows of
// that node (their xmin) and the conflicts their servers logged on them
// are read: the rejoined checker fails on any row applied again, naming
// it. StepRewindProgress breaks recovery's bookkeeping on purpose, for the
// spec that proves the check can fail.

// Rejoin steps. The mechanics are those the recovery specs use too:
// restart and resubscribe are harness/fault's (StartNode, Enable), the
// row versions the workload's (LedgerXmins, Reapplied), the conflicts a
// server logged the harness's (Cluster.ConflictsLogged).
const (
	// StepRejoin restarts Node, killed and recovered earlier, and enables
	// the survivors' subscriptions from it again (recovery fenced them):
	// it must catch up, and nothing recovery replayed may be applied again.
	StepRejoin = "rejoin"
	// StepRewindProgress breaks recovery's bookkeeping ON PURPOSE, for the
	// spec that shows the rejoin check can fail: Node's replication
	// progress for Peer is set back to where it was before recovery, so
	// that Peer, rejoining, sends again what recovery replayed.
	StepRewindProgress = "rewind-recovery-progress"
)

// CheckRejoined is the rejoin checker: after a rejoin, no row a survivor
// held of the returning node was applied again.
const CheckRejoined = "rejoined"

// rejoinTimeout bounds the restart and the mesh replicating again.
const rejoinTimeout = 2 * time.Minute

// rejoinResult is what a rejoin did and saw, the rejoin checker's details.
type rejoinResult struct {
	Node string `json:"node"`
	// Survivors are the nodes whose rows of Node were watched.
	Survivors []string `json:"survivors"`
	// RowsWatched counts the ledger rows of Node the survivors held before it returned.
	RowsWatched int `json:"rows_watched"`
	// Reapplied lists, per survivor, rows whose version changed or vanished
	// when Node returned: applied twice (up to maxRejoinListed each).
	Reapplied      []reappliedRow `json:"-"`
	ReappliedCount int            `json:"reapplied_count"`
	// Conflicts counts the conflicts each survivor logged on Node's rows
	// after it returned: rows sent again, whatever last-update-wins did.
	Conflicts   map[string]int `json:"conflicts_after_rejoin"`
	ReplicateIn time.Duration  `json:"replicating_after_ns"`
	Error       string         `json:"error,omitempty"`

	prefix          string                       // txn ids of the node's ledger rows
	before          map[string]map[string]string // survivor -> row -> xmin
	conflictsBefore map[string]int
}

type reappliedRow struct {
	Node string `json:"node"`
	Key  string `json:"key"` // txn_id/seq
}

const maxRejoinListed = 50

// rejoin (StepRejoin) brings node back after its recovery: it reads what
// the survivors hold of node, restarts it, resubscribes them and waits
// until every subscription among the live nodes replicates. The load goes
// on; node catches up by quiesce's barrier, and the rejoined checker
// compares afterwards (rejoinedCheck).
func (r *run) rejoin(ctx context.Context, s Step) error {
	if !slices.Contains(r.failed, s.Node) {
		return fmt.Errorf("rejoin %s: it has not failed", s.Node)
	}
	res := &rejoinResult{Node: s.Node, Survivors: slices.Clone(r.alive), Conflicts: map[string]int{},
		prefix: r.ledgerPrefix(s.Node), before: map[string]map[string]string{}, conflictsBefore: map[string]int{}}
	r.rejoins = append(r.rejoins, res)
	for _, n := range r.nodes(r.alive) {
		x, err := workload.LedgerXmins(ctx, n.DSN, n.Name, res.prefix)
		if err != nil {
			res.Error = err.Error()
			return fmt.Errorf("rejoin %s: rows of %s on %s before: %w", s.Node, s.Node, n.Name, err)
		}
		res.before[n.Name] = x
		res.RowsWatched += len(x)
		if res.conflictsBefore[n.Name], err = r.cluster.ConflictsLogged(ctx, n.Name, res.prefix); err != nil {
			res.Error = err.Error()
			return fmt.Errorf("rejoin %s: conflicts logged on %s before: %w", s.Node, n.Name, err)
		}
	}
	i := r.addFault(s, 0, "restarted and resubscribed after its recovery")
	start := time.Now()
	err := r.restartAndResubscribe(ctx, s.Node)
	r.report.EndFault(i)
	if err != nil {
		res.Error = err.Error()
		return err
	}
	res.ReplicateIn = time.Since(start)
	return nil
}

// compare reads the survivors' rows of the rejoined node again (after
// quiesce's barrier: it has caught up) and lists those applied again.
func (res *rejoinResult) compare(ctx context.Context, r *run) error {
	for _, n := range r.nodes(res.Survivors) {
		after, err := workload.LedgerXmins(ctx, n.DSN, n.Name, res.prefix)
		if err != nil {
			return fmt.Errorf("rejoin %s: rows of %s on %s after: %w", res.Node, res.Node, n.Name, err)
		}
		for _, k := range workload.Reapplied(res.before[n.Name], after) {
			res.ReappliedCount++
			if len(res.Reapplied) < maxRejoinListed {
				res.Reapplied = append(res.Reapplied, reappliedRow{Node: n.Name, Key: k})
			}
		}
		now, err := r.cluster.ConflictsLogged(ctx, n.Name, res.prefix)
		if err != nil {
			return fmt.Errorf("rejoin %s: conflicts logged on %s after: %w", res.Node, n.Name, err)
		}
		res.Conflicts[n.Name] = now - res.conflictsBefore[n.Name]
	}
	return nil
}

// restartAndResubscribe starts node's container, enables every live
// survivor's subscription from it (the lags from it end here too), waits
// until the mesh with node replicates, and counts node alive again.
func (r *run) restartAndResubscribe(ctx context.Context, node string) error {
	n := r.cluster.Node(node)
	if err := fault.StartNode(ctx, n); err != nil {
		return fmt.Errorf("rejoin %s: %w", node, err)
	}
	for _, peer := range r.alive {
		if err := fault.Enable(ctx, r.cluster, peer, node); err != nil {
			return fmt.Errorf("rejoin %s: %w", node, err)
		}
	}
	lags := r.lags[:0]
	for _, l := range r.lags {
		if l.origin == node {
			r.endFault(l.receiver) // enabled above
			continue
		}
		lags = append(lags, l)
	}
	r.lags = lags
	r.failed = remove(r.failed, node)
	r.alive = append(r.alive, node)
	slices.SortFunc(r.alive, func(a, b string) int { return strings.Compare(a, b) })
	// Replicating, not caught up: under load that can take minutes on a
	// small machine; quiesce's barrier waits for it after the load.
	if err := r.cluster.WaitReplicating(ctx, r.nodes(r.alive), rejoinTimeout); err != nil {
		return fmt.Errorf("rejoin %s: %w", node, err)
	}
	return nil
}

// ledgerPrefix starts the txn ids of node's ledger writes in this run.
func (r *run) ledgerPrefix(node string) string {
	return fmt.Sprintf("s%d-%s-", r.opts.Seed, node)
}

// rewindProgress (StepRewindProgress) sets s.Node's replication origin
// for s.Peer back to its position before the last recovery of s.Peer.
func (r *run) rewindProgress(ctx context.Context, s Step) error {
	res := r.recovered
	if res == nil {
		return fmt.Errorf("rewind progress of %s for %s: no recovery ran", s.Node, s.Peer)
	}
	before := ""
	for _, p := range res.Progress {
		if p.Node == s.Node {
			before = p.Before
		}
	}
	if before == "" {
		return fmt.Errorf("rewind progress of %s for %s: recovery recorded no position before it", s.Node, s.Peer)
	}
	conn, err := r.cluster.Node(s.Node).Connect(ctx)
	if err != nil {
		return fmt.Errorf("rewind progress of %s for %s: %w", s.Node, s.Peer, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	q := fmt.Sprintf("SELECT pg_replication_origin_advance(sub_slot_name, $1::pg_lsn) FROM %s.subscription WHERE sub_name = $2",
		pgx.Identifier{r.cluster.Flavor.Name()}.Sanitize())
	tag, err := conn.Exec(ctx, q, before, r.cluster.Flavor.SubscriptionName(s.Node, s.Peer))
	if err != nil || tag.RowsAffected() != 1 {
		return fmt.Errorf("rewind progress of %s for %s to %s: %v (%d subscriptions)", s.Node, s.Peer, before, err, tag.RowsAffected())
	}
	r.addFault(s, 0, "progress for "+s.Peer+" set back to "+before+" (breaks recovery's bookkeeping on purpose)")
	return nil
}

// rejoinedCheck judges the rejoins: each passes when the returning node
// made no survivor apply again a row it held (no row version changed, no
// conflict logged on its rows), naming the rows that were.
func (r *run) rejoinedCheck(ctx context.Context) verify.CheckResult {
	c := verify.CheckResult{Name: CheckRejoined}
	if len(r.rejoins) == 0 {
		c.Verdict, c.Summary = verify.Fail, "no rejoin ran"
		return c
	}
	for _, res := range r.rejoins {
		if res.Error == "" && slices.Contains(r.alive, res.Node) {
			if err := res.compare(ctx, r); err != nil {
				res.Error = err.Error()
			}
		}
	}
	// The rows applied again come first: reports name them.
	var again []reappliedRow
	for _, res := range r.rejoins {
		again = append(again, res.Reapplied...)
	}
	c.Details = struct {
		Reapplied []reappliedRow  `json:"reapplied"`
		Rejoins   []*rejoinResult `json:"rejoins"`
	}{again, r.rejoins}
	c.Verdict = verify.Pass
	var parts []string
	for _, res := range r.rejoins {
		conflicts := 0
		for _, n := range res.Conflicts {
			conflicts += n
		}
		switch {
		case res.Error != "":
			c.Verdict = verify.Unknown
			parts = append(parts, fmt.Sprintf("rejoin of %s: %s", res.Node, res.Error))
		case res.ReappliedCount > 0 || conflicts > 0:
			c.Verdict = verify.Fail
			var keys []string
			for _, k := range res.Reapplied[:min(5, len(res.Reapplied))] {
				keys = append(keys, k.Node+":"+k.Key)
			}
			parts = append(parts, fmt.Sprintf("%s rejoined and %d of the %d rows of %s on %s were applied again (%d conflicts logged), first: %s",
				res.Node, res.ReappliedCount, res.RowsWatched, res.Node, strings.Join(res.Survivors, ", "), conflicts, strings.Join(keys, ", ")))
		default:
			parts = append(parts, fmt.Sprintf("%s rejoined, replicating after %s; none of the %d rows of %s on %s applied again, no conflict logged",
				res.Node, res.ReplicateIn.Round(100*time.Millisecond), res.RowsWatched, res.Node, strings.Join(res.Survivors, ", ")))
		}
	}
	c.Summary = strings.Join(parts, "; ")
	return c
}
