package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// JoinOptions steer AddNode.
type JoinOptions struct {
	// Source is the node whose data the new node copies (default the
	// first node).
	Source string
	// Timeout bounds each wait of the join (default 2 minutes).
	Timeout time.Duration
	// DuringCopy, when set, runs right after the sync subscription is
	// created, while the source's data is being copied (a fault there).
	DuringCopy func(ctx context.Context, source, joining *Node) error
	// SkipCopy subscribes to the source WITHOUT data sync: a planted
	// defect (the new node misses every row written before it joined),
	// for the spec that shows convergence catches a join that lost rows.
	SkipCopy bool
}

// JoinReport says how a node joined.
type JoinReport struct {
	Node   string `json:"node"`
	Source string `json:"source"`
	// Procedure is "manual" (the sequence below) on both flavors; a
	// Spock add-node procedure found in pg_proc is named in AddNodeProc.
	Procedure   string `json:"procedure"`
	AddNodeProc string `json:"add_node_procedure,omitempty"`
	// Handover is, per other peer, the position of its WAL up to which
	// the copy holds its changes: the new node streams from there.
	Handover map[string]string `json:"handover"`
	Copy     time.Duration     `json:"copy_ns"`
	// CopyAttempts counts the copies started; CopyFailures says why each
	// failed one failed (a copy cut off cannot resume: it is set up again).
	CopyAttempts int           `json:"copy_attempts"`
	CopyFailures []string      `json:"copy_failures,omitempty"`
	Total        time.Duration `json:"total_ns"`
}

// handoverPeer is one peer (not the source) during a join: the slot it
// keeps for the new node and where the new node starts on it.
type handoverPeer struct {
	node     *Node
	slot     string // the new node's subscription slot (= its origin)
	slotLSN  string
	copiedTo string // the source's progress for this peer at the copy
}

// AddNode starts one more node like the others (image, settings, labels,
// network, the next name n<N+1>), creates its replication node and tables
// and joins it without stopping the writers, the way Spock's zero-downtime
// add-node does (samples/Z0DAN/zodan.sql), with the harness's own steps:
//
//  1. on the new node, a disabled, ready subscription to every peer but
//     the source, and on each of those peers its slot: from here on the
//     peer's changes are kept for the new node;
//  2. a marker on each such peer, awaited on the source: the source has
//     applied that peer's changes past the slot;
//  3. the source's subscriptions from those peers disabled; their
//     progress on the source is where its copy will hold each peer's
//     changes up to (copiedTo);
//  4. the new node subscribes to the source with data sync; once it
//     replicates, the source's subscriptions are enabled again;
//  5. the new node's origin for each peer is set to copiedTo and its
//     subscription enabled: the peer streams from exactly where the copy
//     ends, so nothing written meanwhile is missed or applied twice;
//  6. every node subscribes to the new one; its links replicate.
//
// Every wait names the node and the step. On error the new node stays in
// the run (its container is cleaned up with the run), not in c.Nodes.
func (c *Cluster) AddNode(ctx context.Context, opts JoinOptions) (*Node, *JoinReport, error) {
	j, ok := c.Flavor.(joiner)
	if !ok {
		return nil, nil, fmt.Errorf("add node: flavor %s cannot join nodes", c.Flavor.Name())
	}
	if c.links != nil {
		return nil, nil, fmt.Errorf("add node: a cluster with link proxies cannot grow (its proxies are per pair of the first nodes)")
	}
	if len(c.Nodes) >= MaxNodes {
		return nil, nil, fmt.Errorf("add node: the cluster has %d nodes already (at most %d)", len(c.Nodes), MaxNodes)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	source := c.Nodes[0]
	if opts.Source != "" {
		if source = c.Node(opts.Source); source == nil {
			return nil, nil, fmt.Errorf("add node: source %s is not a node of the cluster", opts.Source)
		}
	}
	name := NextNodeName(nodeNames(c.Nodes))
	start := time.Now()
	rep := &JoinReport{Node: name, Source: source.Name, Procedure: "manual", Handover: map[string]string{}}
	n, err := c.startNode(ctx, name, c.serverSettings, c.labels, func(*Node) {})
	if err != nil {
		return nil, rep, fmt.Errorf("add node %s: %w", name, err)
	}
	conn, err := n.Connect(ctx)
	if err != nil {
		return nil, rep, fmt.Errorf("add node %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if rep.AddNodeProc, err = addNodeProcedure(ctx, conn); err != nil {
		return nil, rep, fmt.Errorf("add node %s: look for an add-node procedure: %w", name, err)
	}
	if err := c.prepareJoiner(ctx, n, conn); err != nil {
		return nil, rep, err
	}
	var peers []*handoverPeer
	for _, p := range c.Nodes {
		if p != source {
			peers = append(peers, &handoverPeer{node: p})
		}
	}
	step := func(what string, err error) error {
		if err == nil {
			return nil
		}
		// The run may be removed on this error: say what the new node's
		// server said last.
		return fmt.Errorf("add node %s (source %s): %s: %w%s", name, source.Name, what, err, c.lastLogLines(ctx, n))
	}
	if err := step("keep the other peers' changes", c.keepPeerChanges(ctx, j, n, conn, peers)); err != nil {
		return nil, rep, err
	}
	if err := step("source catches up with the other peers", c.sourceCatchesUp(ctx, source, peers, opts.Timeout)); err != nil {
		return nil, rep, err
	}
	if err := step("hold the source's subscriptions from the other peers", c.freezeSource(ctx, source, peers, opts.Timeout)); err != nil {
		return nil, rep, err
	}
	copyStart := time.Now()
	if err := step("copy from the source", c.copyFromSource(ctx, j, n, conn, source, opts, rep)); err != nil {
		return nil, rep, err
	}
	rep.Copy = time.Since(copyStart)
	if err := step("enable the source's subscriptions again", c.thawSource(ctx, source, peers)); err != nil {
		return nil, rep, err
	}
	for _, p := range peers {
		rep.Handover[p.node.Name] = p.copiedTo
	}
	if err := step("hand the other peers over", c.handOver(ctx, n, conn, peers)); err != nil {
		return nil, rep, err
	}
	if err := step("subscribe every node to the new one", c.subscribeToNew(ctx, n)); err != nil {
		return nil, rep, err
	}
	c.Nodes = append(c.Nodes, n)
	// Only the new node's links: a lag elsewhere (a disabled subscription
	// between two old nodes) must not hold the join up; quiesce's barrier
	// judges the whole mesh later.
	var links []Link
	for _, x := range c.Nodes[:len(c.Nodes)-1] {
		links = append(links, Link{Subscriber: n, Provider: x}, Link{Subscriber: x, Provider: n})
	}
	if err := step("wait for the new node's subscriptions", c.WaitLinks(ctx, links, opts.Timeout)); err != nil {
		return n, rep, err
	}
	rep.Total = time.Since(start)
	c.log.Info("node joined", "node", name, "source", source.Name, "copy", rep.Copy.Round(time.Millisecond), "elapsed", rep.Total.Round(time.Millisecond))
	return n, rep, nil
}

// NextNodeName is the first name of the n1, n2, ... scheme not in used
// (a removed node's name is not reused: its traces would be confused).
func NextNodeName(used []string) string {
	most := 0
	for _, u := range used {
		var i int
		if _, err := fmt.Sscanf(u, "n%d", &i); err == nil && i > most {
			most = i
		}
	}
	return fmt.Sprintf("n%d", most+1)
}

func nodeNames(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

// addNodeProcedure names a Spock add-node procedure the server has
// (spock.add_node, installed by Spock's samples/Z0DAN/zodan.sql), or "".
func addNodeProcedure(ctx context.Context, conn *pgx.Conn) (string, error) {
	var name string
	err := conn.QueryRow(ctx, `SELECT coalesce(min(p.oid::regprocedure::text), '') FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
WHERE s.nspname = 'spock' AND p.proname IN ('add_node', 'node_add') AND p.prokind = 'p'`).Scan(&name)
	return name, err
}

// prepareJoiner makes n a replication node with the run's tables.
func (c *Cluster) prepareJoiner(ctx context.Context, n *Node, conn *pgx.Conn) error {
	if ls, ok := c.Flavor.(listSetter); ok {
		if _, err := ensureListSettings(ctx, n, conn, ls.ListSettings()); err != nil {
			return fmt.Errorf("add node %s: %w", n.Name, err)
		}
	}
	if err := execStatements(ctx, conn, c.Flavor.CreateNode(n.Peer())); err != nil {
		return fmt.Errorf("add node %s: create replication node: %w", n.Name, err)
	}
	return c.applySchema(ctx, n, conn, barrierSchema+";\n"+c.schema)
}

// keepPeerChanges is step 1: n's disabled subscriptions to peers and
// their slots.
func (c *Cluster) keepPeerChanges(ctx context.Context, j joiner, n *Node, conn *pgx.Conn, peers []*handoverPeer) error {
	for _, p := range peers {
		sub := c.Flavor.SubscriptionName(n.Name, p.node.Name)
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			return execStatements(ctx, tx, j.SubscribeForJoin(n.Peer(), p.node.Peer()))
		})
		if err != nil {
			return fmt.Errorf("create %s on %s: %w", sub, n.Name, err)
		}
		if err := conn.QueryRow(ctx, "SELECT sub_slot_name::text FROM "+subscriptionTable(c.Flavor)+" WHERE sub_name = $1", sub).Scan(&p.slot); err != nil {
			return fmt.Errorf("slot name of %s on %s: %w", sub, n.Name, err)
		}
		if err := onNode(ctx, p.node, func(pc *pgx.Conn) error {
			return pc.QueryRow(ctx, "SELECT lsn::text FROM pg_create_logical_replication_slot($1, $2)", p.slot, j.OutputPlugin()).Scan(&p.slotLSN)
		}); err != nil {
			return fmt.Errorf("create slot %s on %s: %w", p.slot, p.node.Name, err)
		}
	}
	return nil
}

// sourceCatchesUp is step 2: a marker written on each peer after its
// slot exists, awaited on the source.
func (c *Cluster) sourceCatchesUp(ctx context.Context, source *Node, peers []*handoverPeer, timeout time.Duration) error {
	token := "join-" + randomHex(6)
	for _, p := range peers {
		if err := onNode(ctx, p.node, func(pc *pgx.Conn) error {
			_, err := pc.Exec(ctx, "INSERT INTO spockchaos.barrier (token, node) VALUES ($1, $2)", token, p.node.Name)
			return err
		}); err != nil {
			return fmt.Errorf("write marker on %s: %w", p.node.Name, err)
		}
	}
	q := fmt.Sprintf("SELECT count(*) FROM spockchaos.barrier WHERE token = %s", QuoteLiteral(token))
	if err := WaitCount(ctx, source, q, int64(len(peers)), timeout); err != nil {
		return fmt.Errorf("markers of %s on %s: %w", nodeNames(handoverNodes(peers)), source.Name, err)
	}
	return nil
}

func handoverNodes(peers []*handoverPeer) []*Node {
	out := make([]*Node, len(peers))
	for i, p := range peers {
		out[i] = p.node
	}
	return out
}

// freezeSource is step 3: the source's subscriptions from the peers
// disabled, their workers gone, their progress read.
func (c *Cluster) freezeSource(ctx context.Context, source *Node, peers []*handoverPeer, timeout time.Duration) error {
	return onNode(ctx, source, func(conn *pgx.Conn) error {
		for _, p := range peers {
			sub := c.Flavor.SubscriptionName(source.Name, p.node.Name)
			// On Spock 6.0 this kills a worker inside a transaction, which
			// the next one discards (scenarios.SpockDiscardAfterTerm; the
			// join scenarios carry it). sub_disable(sub, false) does too:
			// the manager kills every worker of a disabled subscription
			// (measured: join-under-load seed 7 either way).
			if err := execStatements(ctx, conn, c.Flavor.DisableSubscription(sub)); err != nil {
				return fmt.Errorf("disable %s on %s: %w", sub, source.Name, err)
			}
			origin, err := subscriptionOrigin(ctx, c.Flavor, conn, sub)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", sub, source.Name, err)
			}
			if err := waitOriginFree(ctx, conn, origin, fmt.Sprintf("apply worker of %s on %s to exit", sub, source.Name), timeout); err != nil {
				return err
			}
			if err := conn.QueryRow(ctx, "SELECT coalesce(pg_replication_origin_progress($1, true), '0/0')::text", origin).Scan(&p.copiedTo); err != nil {
				return fmt.Errorf("progress of %s on %s: %w", origin, source.Name, err)
			}
		}
		return nil
	})
}

// subscriptionOrigin is the replication origin of subscription sub (the
// flavors name it after the subscription's slot).
func subscriptionOrigin(ctx context.Context, f Flavor, conn *pgx.Conn, sub string) (string, error) {
	var origin string
	err := conn.QueryRow(ctx, "SELECT sub_slot_name::text FROM "+subscriptionTable(f)+" WHERE sub_name = $1", sub).Scan(&origin)
	if err != nil {
		return "", fmt.Errorf("origin of %s: %w", sub, err)
	}
	return origin, nil
}

// waitOriginFree waits until no process holds origin: a session can take
// it (the way fault.Disable proves a worker gone).
func waitOriginFree(ctx context.Context, conn *pgx.Conn, origin, what string, timeout time.Duration) error {
	return WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if _, err := conn.Exec(ctx, "SELECT pg_replication_origin_session_setup($1)", origin); err != nil {
			return false, err.Error(), nil
		}
		_, err := conn.Exec(ctx, "SELECT pg_replication_origin_session_reset()")
		return err == nil, "", err
	})
}

// copyAttempts bounds how often a join starts its copy again: a copy cut
// off mid-way cannot resume (pglogical: "subscriber ... initialization
// failed during nonrecoverable step (d), please try the setup again").
const copyAttempts = 3

// copyFromSource is step 4: n's subscription to the source with data
// sync, awaited until it replicates. A copy that failed for good (its
// subscription down, not synchronized) is set up again: the
// subscription dropped, n's tables emptied of the partial copy, and
// created anew; the report counts the attempts.
func (c *Cluster) copyFromSource(ctx context.Context, j joiner, n *Node, conn *pgx.Conn, source *Node, opts JoinOptions, rep *JoinReport) error {
	sub := c.Flavor.SubscriptionName(n.Name, source.Name)
	subscribe := j.SubscribeSync(n.Peer(), source.Peer())
	if opts.SkipCopy {
		subscribe = c.Flavor.Subscribe(n.Peer(), source.Peer())
	}
	for attempt := 1; ; attempt++ {
		rep.CopyAttempts = attempt
		if err := execStatements(ctx, conn, subscribe); err != nil {
			return fmt.Errorf("create %s on %s (attempt %d): %w", sub, n.Name, attempt, err)
		}
		c.hurryWorkers(ctx, n, conn)
		if opts.DuringCopy != nil && attempt == 1 {
			if err := opts.DuringCopy(ctx, source, n); err != nil {
				return fmt.Errorf("during the copy: %w", err)
			}
		}
		err := c.waitCopied(ctx, n, conn, sub, opts.Timeout)
		if err == nil || !errors.Is(err, errCopyFailed) || attempt == copyAttempts {
			return err
		}
		rep.CopyFailures = append(rep.CopyFailures, fmt.Sprintf("attempt %d: %v", attempt, err))
		if err := c.undoCopy(ctx, j, n, conn, sub); err != nil {
			return fmt.Errorf("set up the copy again after attempt %d: %w", attempt, err)
		}
	}
}

// errCopyFailed: the sync subscription is down (pglogical) or disabled
// (Spock 6.0 disables it: "initialization failed during nonrecoverable
// step (d). Subscription disabled.") and not synchronized for
// copyFailedAfter: its copy will not finish.
var errCopyFailed = errors.New("the copy failed for good")

const copyFailedAfter = 5 * time.Second

// waitCopied waits until sub replicates, or says errCopyFailed with the
// server's last error line.
func (c *Cluster) waitCopied(ctx context.Context, n *Node, conn *pgx.Conn, sub string, timeout time.Duration) error {
	syncQ := fmt.Sprintf(`SELECT coalesce(min(l.sync_status::text), '?') FROM %[1]s.local_sync_status l JOIN %[1]s.subscription s ON s.sub_id = l.sync_subid
WHERE s.sub_name = $1 AND l.sync_relname IS NULL`, pgx.Identifier{c.Flavor.Name()}.Sanitize())
	var downSince time.Time
	what := fmt.Sprintf("%s on %s to copy and replicate", sub, n.Name)
	return WaitFor(ctx, what, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		st, err := c.SubscriptionStatuses(ctx, conn)
		if err != nil {
			return false, "", err
		}
		var sync string
		if err := conn.QueryRow(ctx, syncQ, sub).Scan(&sync); err != nil {
			return false, "", err
		}
		state := fmt.Sprintf("%s %s, sync status %s", sub, st[sub], sync)
		if st[sub] == Replicating {
			return true, state, nil
		}
		if (st[sub] != Down && st[sub] != "disabled") || sync == "r" {
			downSince = time.Time{}
			return false, state, nil
		}
		if downSince.IsZero() {
			downSince = time.Now()
		}
		if time.Since(downSince) < copyFailedAfter {
			return false, state, nil
		}
		log, _ := c.ServerLog(ctx, n)
		return false, state, fmt.Errorf("%w: %s; %s", errCopyFailed, state, LastError(log))
	})
}

// undoCopy drops sub and empties n's replicated tables of what a failed
// copy left (n has no subscriber yet: nothing replicates the TRUNCATE).
func (c *Cluster) undoCopy(ctx context.Context, j joiner, n *Node, conn *pgx.Conn, sub string) error {
	if err := execStatements(ctx, conn, j.DropSubscription(sub)); err != nil {
		return fmt.Errorf("drop %s on %s: %w", sub, n.Name, err)
	}
	var tables string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(format('%I.%I', schemaname, tablename), ', '), '') FROM pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'pglogical', 'spock')`).Scan(&tables); err != nil {
		return fmt.Errorf("list tables on %s: %w", n.Name, err)
	}
	if tables == "" {
		return nil
	}
	if _, err := conn.Exec(ctx, "TRUNCATE "+tables); err != nil {
		return fmt.Errorf("empty %s on %s: %w", tables, n.Name, err)
	}
	return nil
}

// thawSource enables the source's subscriptions from the peers again.
func (c *Cluster) thawSource(ctx context.Context, source *Node, peers []*handoverPeer) error {
	return onNode(ctx, source, func(conn *pgx.Conn) error {
		for _, p := range peers {
			sub := c.Flavor.SubscriptionName(source.Name, p.node.Name)
			if err := execStatements(ctx, conn, c.Flavor.EnableSubscription(sub)); err != nil {
				return fmt.Errorf("enable %s on %s: %w", sub, source.Name, err)
			}
		}
		return nil
	})
}

// handOver is step 5: n's origin for each peer set to where the copy
// holds that peer's changes up to, the slot advanced there, and n's
// subscription enabled.
func (c *Cluster) handOver(ctx context.Context, n *Node, conn *pgx.Conn, peers []*handoverPeer) error {
	for _, p := range peers {
		if _, err := conn.Exec(ctx, "SELECT pg_replication_origin_advance($1, $2::pg_lsn)", p.slot, p.copiedTo); err != nil {
			return fmt.Errorf("set origin %s on %s to %s: %w", p.slot, n.Name, p.copiedTo, err)
		}
		// The slot was created before the source's progress was read, so
		// copiedTo is at or past it (the marker proves it).
		if err := onNode(ctx, p.node, func(pc *pgx.Conn) error {
			_, err := pc.Exec(ctx, "SELECT pg_replication_slot_advance($1, $2::pg_lsn)", p.slot, p.copiedTo)
			return err
		}); err != nil {
			return fmt.Errorf("advance slot %s on %s to %s: %w", p.slot, p.node.Name, p.copiedTo, err)
		}
		sub := c.Flavor.SubscriptionName(n.Name, p.node.Name)
		if err := execStatements(ctx, conn, c.Flavor.EnableSubscription(sub)); err != nil {
			return fmt.Errorf("enable %s on %s: %w", sub, n.Name, err)
		}
	}
	c.hurryWorkers(ctx, n, conn)
	return nil
}

// subscribeToNew is step 6: every node subscribes to n (no sync: n has
// written nothing of its own).
func (c *Cluster) subscribeToNew(ctx context.Context, n *Node) error {
	return c.onEach(ctx, slices.DeleteFunc(slices.Clone(c.Nodes), func(x *Node) bool { return x == n }), func(ctx context.Context, x *Node, conn *pgx.Conn) error {
		if err := execStatements(ctx, conn, c.Flavor.Subscribe(x.Peer(), n.Peer())); err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", x.Name, n.Name, err)
		}
		c.hurryWorkers(ctx, x, conn)
		return nil
	})
}

// onNode runs fn on a new connection to n.
func onNode(ctx context.Context, n *Node, fn func(*pgx.Conn) error) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}
