package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/slots"
	"github.com/spockchaos/spockchaos/verify"
)

// Membership steps (issue 27): nodes join and leave the running cluster
// while the workload writes on the others (and, once joined, on the new
// node).
const (
	// StepAddNode starts a new node Node (the next name: n4 on three
	// nodes) and joins it with Peer as its sync source (harness.AddNode).
	// When "source-crash": Peer is crash-restarted while its data is
	// copied. When "no-copy" is a planted defect: the join subscribes to
	// Peer without copying its data.
	StepAddNode = "add-node"
	// StepRemoveNode takes Node out cleanly (harness.RemoveNode): fenced,
	// drained, its subscriptions and node record dropped, its container
	// removed.
	StepRemoveNode = "remove-node"
	// StepPlantLeftover is a planted defect, for the spec that shows the
	// membership check can fail: after Node's removal, a slot naming it is
	// created on Peer.
	StepPlantLeftover = "plant-leftover-slot"
)

// Moments of the add-node step.
const (
	joinSourceCrash = "source-crash"
	joinNoCopy      = "no-copy"
)

// CheckMembership judges the joins and removals: a joined node logged no
// conflict on the workload's rows (a row it copied and then received
// again: applied twice), and a removed node left nothing on the
// survivors (slots, origins, subscriptions, node records naming it).
// That the joined node holds every acknowledged write and converges is
// the history and convergence checkers' (it is a survivor).
const CheckMembership = "membership"

// joinTimeout bounds each wait of a join or removal.
const joinTimeout = 2 * time.Minute

// sourceCrashHold is how long a crashed sync source stays down.
const sourceCrashHold = 3 * time.Second

// joinResult is what one add-node or remove-node step did and saw.
type joinResult struct {
	Kind      string              `json:"kind"`
	Node      string              `json:"node"`
	Join      *harness.JoinReport `json:"join,omitempty"`
	Conflicts int                 `json:"conflicts_after_join,omitempty"`
	Leftovers []harness.Leftover  `json:"leftovers,omitempty"`
	Survivors []string            `json:"survivors,omitempty"`
	Fault     string              `json:"fault_during_copy,omitempty"`
	Error     string              `json:"error,omitempty"`
	Took      time.Duration       `json:"took_ns"`
}

// addNode (StepAddNode) joins s.Node from s.Peer while the load runs and
// counts it alive: the checkers then judge it as a survivor. Once it has
// joined the workload gives it clients of its own (loadOn): for the rest
// of the load it takes writes as well as receiving them.
func (r *run) addNode(ctx context.Context, s Step) error {
	res := &joinResult{Kind: StepAddNode, Node: s.Node}
	r.membership = append(r.membership, res)
	opts := harness.JoinOptions{Source: s.Peer, Timeout: joinTimeout, SkipCopy: s.When == joinNoCopy}
	if s.When == joinSourceCrash {
		opts.DuringCopy = func(ctx context.Context, source, joining *harness.Node) error {
			detail, err := r.crashSourceMidCopy(ctx, s, source, joining)
			res.Fault = detail
			return err
		}
	}
	i := r.addFault(s, 0, "joined with "+s.Peer+" as its sync source"+whenDetail(s.When))
	start := time.Now()
	n, rep, err := r.growCluster(ctx, opts)
	r.report.EndFault(i)
	res.Join, res.Took = rep, time.Since(start)
	if err != nil {
		res.Error = err.Error()
		return err
	}
	if n.Name != s.Node {
		res.Error = fmt.Sprintf("the plan named the new node %s, the cluster named it %s", s.Node, n.Name)
		return fmt.Errorf("add node: %s", res.Error)
	}
	r.out.linef("%s joined from %s in %s (copy %s)\n", n.Name, s.Peer, res.Took.Round(100*time.Millisecond), rep.Copy.Round(100*time.Millisecond))
	r.loadOn(n.Name)
	return nil
}

// loadOn gives the load clients on a node that joined: from now on it
// takes writes too. (The channel holds one entry per planned step.)
func (r *run) loadOn(name string) {
	if r.joined == nil {
		return
	}
	select {
	case r.joined <- r.targets([]string{name})[0]:
	default:
	}
}

func whenDetail(when string) string {
	switch when {
	case joinSourceCrash:
		return "; the source crash-restarted mid-copy"
	case joinNoCopy:
		return "; WITHOUT its data copied (a planted defect)"
	}
	return ""
}

// growCluster runs the join with the slot keeper's view held (it reads
// the cluster's nodes), then gives the new node its recovery slots and
// the others theirs for it, and counts it alive.
func (r *run) growCluster(ctx context.Context, opts harness.JoinOptions) (*harness.Node, *harness.JoinReport, error) {
	n, rep, err := r.cluster.AddNode(ctx, opts)
	if err != nil {
		return n, rep, err
	}
	names := append(slices.Clone(r.alive), n.Name)
	for _, x := range r.nodes(names) {
		if err := slots.PrepareNode(ctx, x.Name, x.DSN, names); err != nil {
			return n, rep, fmt.Errorf("add node %s: %w", n.Name, err)
		}
	}
	r.aliveMu.Lock()
	r.alive = names
	slices.Sort(r.alive)
	r.aliveMu.Unlock()
	return n, rep, nil
}

// crashSourceMidCopy SIGKILLs the sync source once the new node's copy
// has started, keeps it down for sourceCrashHold and starts it again.
// The join then has to finish (or say why not) with a source that lost
// its walsender, its slot's snapshot and its disabled subscriptions'
// workers mid-copy.
func (r *run) crashSourceMidCopy(ctx context.Context, s Step, source, joining *harness.Node) (string, error) {
	seen := r.waitCopyStarted(ctx, joining)
	f := fault.New(fault.Kill(r.cluster, source.Name), r.rec)
	if err := f.Inject(ctx); err != nil {
		return "", err
	}
	i := r.addFault(Step{Kind: StepRestart, Node: source.Name}, 0, "sync source of "+s.Node+" crashed mid-copy ("+seen+")")
	defer r.report.EndFault(i)
	if err := f.WaitEffective(ctx); err != nil {
		return "", err
	}
	if err := sleepUntil(ctx, time.Now().Add(sourceCrashHold)); err != nil {
		return "", err
	}
	r.aliveMu.Lock()
	err := fault.StartNode(ctx, source)
	r.aliveMu.Unlock()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("killed with the copy %s, down %s", seen, sourceCrashHold), nil
}

// waitCopyStarted waits (at most 10 s) until the new node's sync
// subscription is copying, and says what it saw.
func (r *run) waitCopyStarted(ctx context.Context, n *harness.Node) string {
	q := fmt.Sprintf(`SELECT coalesce(string_agg(coalesce(sync_relname::text, '(subscription)') || '=' || sync_status::text, ' '), 'none')
FROM %s.local_sync_status`, pgx.Identifier{r.cluster.Flavor.Name()}.Sanitize())
	state := "not seen"
	_ = harness.WaitFor(ctx, "copy to "+n.Name+" to start", 10*time.Second, 20*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		conn, err := n.Connect(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		defer conn.Close(context.WithoutCancel(ctx))
		if err := conn.QueryRow(ctx, q).Scan(&state); err != nil {
			return false, err.Error(), nil
		}
		return strings.Contains(state, "=d"), state, nil
	})
	return "sync status " + state
}

// removeNode (StepRemoveNode) takes s.Node out while the load runs on
// the others; its own clients' writes fail from the fence on. Its
// recovery slots on the others are dropped first (the harness's own, not
// the flavor's), then the leftovers are read.
func (r *run) removeNode(ctx context.Context, s Step) error {
	res := &joinResult{Kind: StepRemoveNode, Node: s.Node}
	r.membership = append(r.membership, res)
	if !slices.Contains(r.alive, s.Node) {
		res.Error = s.Node + " is not alive"
		return fmt.Errorf("remove node %s: not alive", s.Node)
	}
	i := r.addFault(s, 0, "removed: fenced, drained, unsubscribed, dropped")
	start := time.Now()
	err := r.shrinkCluster(ctx, s.Node)
	r.report.EndFault(i)
	res.Took = time.Since(start)
	if err != nil {
		res.Error = err.Error()
		return err
	}
	res.Survivors = slices.Clone(r.alive)
	r.out.linef("%s removed in %s\n", s.Node, res.Took.Round(100*time.Millisecond))
	return nil
}

// shrinkCluster removes node from the cluster and from alive (it is
// neither a survivor nor failed: it left), and drops the recovery slots
// the others kept for it.
func (r *run) shrinkCluster(ctx context.Context, node string) error {
	r.aliveMu.Lock()
	r.alive = remove(r.alive, node)
	r.aliveMu.Unlock()
	if err := r.cluster.RemoveNode(ctx, node, joinTimeout); err != nil {
		return err
	}
	for _, x := range r.nodes(r.alive) {
		slot := recovery.RecoverySlotName(recovery.DefaultDB, x.Name, node)
		if err := onConn(ctx, x, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot); err != nil {
			return fmt.Errorf("remove node %s: drop recovery slot %s on %s: %w", node, slot, x.Name, err)
		}
	}
	return nil
}

// plantLeftover (StepPlantLeftover) creates on s.Peer a slot naming
// s.Node, removed earlier: a leftover on purpose.
func (r *run) plantLeftover(ctx context.Context, s Step) error {
	x := r.cluster.Node(s.Peer)
	if x == nil {
		return fmt.Errorf("plant leftover: %s is not a node", s.Peer)
	}
	slot := "planted_" + s.Peer + "_" + s.Node
	if err := onConn(ctx, x, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", slot); err != nil {
		return fmt.Errorf("plant leftover slot %s on %s: %w", slot, s.Peer, err)
	}
	r.addFault(s, 0, "slot "+slot+" left on "+s.Peer+" on purpose (a planted defect)")
	return nil
}

func onConn(ctx context.Context, n *harness.Node, sql string, args ...any) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// membershipCheck judges every join and removal of the run (after
// quiesce: every survivor has applied everything).
func (r *run) membershipCheck(ctx context.Context) verify.CheckResult {
	c := verify.CheckResult{Name: CheckMembership}
	if len(r.membership) == 0 {
		c.Verdict, c.Summary = verify.Skipped, "not applicable: no node joined or left"
		return c
	}
	c.Verdict = verify.Pass
	var parts []string
	for _, res := range r.membership {
		verdict, part := r.judgeMembership(ctx, res)
		c.Verdict = worse(c.Verdict, verdict)
		parts = append(parts, part)
	}
	c.Summary = strings.Join(parts, "; ")
	c.Details = r.membership
	return c
}

// judgeMembership judges one step.
func (r *run) judgeMembership(ctx context.Context, res *joinResult) (verify.Verdict, string) {
	if res.Error != "" {
		return verify.Unknown, fmt.Sprintf("%s %s: %s", res.Kind, res.Node, res.Error)
	}
	if res.Kind == StepAddNode {
		if !slices.Contains(r.alive, res.Node) {
			return verify.Unknown, fmt.Sprintf("%s joined but did not survive: its conflicts are not judged", res.Node)
		}
		n, err := r.cluster.ConflictsLogged(ctx, res.Node, r.rowPrefix())
		if err != nil {
			return verify.Unknown, fmt.Sprintf("conflicts on %s: %v", res.Node, err)
		}
		res.Conflicts = n
		if n > 0 {
			return verify.Fail, fmt.Sprintf("%s joined from %s and logged %d conflicts on the workload's rows: rows it copied were applied again", res.Node, res.Join.Source, n)
		}
		again := ""
		if len(res.Join.CopyFailures) > 0 {
			again = fmt.Sprintf(", copied %d times: %s", res.Join.CopyAttempts, strings.Join(res.Join.CopyFailures, "; "))
		}
		return verify.Pass, fmt.Sprintf("%s joined from %s (copy %s, handover %v%s), no conflict logged on it", res.Node, res.Join.Source, res.Join.Copy.Round(100*time.Millisecond), res.Join.Handover, again)
	}
	left, err := r.cluster.Leftovers(ctx, res.Node, r.nodes(r.alive))
	if err != nil {
		return verify.Unknown, fmt.Sprintf("leftovers of %s: %v", res.Node, err)
	}
	res.Leftovers = left
	if len(left) > 0 {
		var names []string
		for _, l := range left {
			names = append(names, l.String())
		}
		return verify.Fail, fmt.Sprintf("%s removed, but %d objects of it are left: %s", res.Node, len(left), strings.Join(names, ", "))
	}
	return verify.Pass, fmt.Sprintf("%s removed in %s, nothing of it left on %s", res.Node, res.Took.Round(100*time.Millisecond), strings.Join(r.alive, ", "))
}

// rowPrefix starts every key the workload writes in this run (its txn
// ids and keys carry the seed), so conflicts on the harness's own rows
// are not counted.
func (r *run) rowPrefix() string { return fmt.Sprintf("s%d-", r.opts.Seed) }

// worse is the worse of two verdicts: fail over unknown over pass.
func worse(a, b verify.Verdict) verify.Verdict {
	rank := map[verify.Verdict]int{verify.Pass: 0, verify.Skipped: 0, verify.Unknown: 1, verify.Fail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
