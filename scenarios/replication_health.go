package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// CheckReplicationHealth is the replication-health checker
// (verify.JudgeReplicationHealth): every subscription among the survivors
// is replicating at the end and was never disabled by the server itself,
// unless a fault did it.
const CheckReplicationHealth = verify.ReplicationHealthCheckName

// replHealthWait bounds the wait for subscriptions that are merely
// reconnecting (initializing, or down for a moment after a heal or a
// restart) before they are judged: a worker restarts within a few seconds;
// 15 s is three of pglogical's and Spock's worker restart intervals
// (wal_retrieve_retry_interval-sized), and a disabled subscription ends the
// wait at once since waiting cannot change it.
const replHealthWait = 15 * time.Second

// replicationHealthCheck samples the survivors' subscriptions among
// themselves, reads the fault windows from the history and what each
// subscriber's server said about its subscriptions, and judges them.
// Live only: the samples and server logs are not part of a stored run.
func (r *run) replicationHealthCheck(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	res := func(v verify.Verdict, format string, a ...any) []verify.CheckResult {
		return []verify.CheckResult{{Name: CheckReplicationHealth, Verdict: v, Summary: fmt.Sprintf(format, a...)}}
	}
	if len(targets) < 2 {
		return res(verify.Skipped, "only %d survivor(s): no subscription among survivors", len(targets))
	}
	if err := r.rec.Flush(); err != nil {
		return res(verify.Unknown, "flush history: %v", err)
	}
	ops, err := history.Load(r.histPath())
	if err != nil {
		return res(verify.Unknown, "load history: %v", err)
	}
	survivors := make([]string, 0, len(targets))
	for _, t := range targets {
		survivors = append(survivors, t.Name)
	}
	return []verify.CheckResult{replicationHealthOf(ctx, r.cluster, survivors, ops, r.spec.WorkerErrorsFail)}
}

// replicationHealth judges the subscriptions among survivors on c, with
// the fault windows of the history ops.
func replicationHealth(ctx context.Context, c *harness.Cluster, survivors []string, ops []history.Op) verify.CheckResult {
	return replicationHealthOf(ctx, c, survivors, ops, false)
}

// replicationHealthOf is replicationHealth, failing apply workers ended
// by errors outside fault windows when workerErrorsFail (Spec).
func replicationHealthOf(ctx context.Context, c *harness.Cluster, survivors []string, ops []history.Op, workerErrorsFail bool) verify.CheckResult {
	in, err := sampleSubscriptions(ctx, c, survivors, verify.SubscriptionFaults(ops))
	if err != nil {
		return verify.CheckResult{Name: CheckReplicationHealth, Verdict: verify.Unknown, Summary: err.Error()}
	}
	in.WorkerErrorsFail = workerErrorsFail
	subscriptionEvidence(ctx, c, &in)
	return verify.JudgeReplicationHealth(in)
}

// sampleSubscriptions waits (at most replHealthWait) until every
// subscription between survivors is replicating, or disabled (waiting
// cannot change that), and returns the last samples.
func sampleSubscriptions(ctx context.Context, c *harness.Cluster, survivors []string, faults []verify.SubFault) (verify.ReplicationHealthInput, error) {
	in := verify.ReplicationHealthInput{Faults: faults}
	conns := make(map[string]*pgx.Conn, len(survivors))
	defer func() {
		for _, conn := range conns {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	for _, name := range survivors {
		n := c.Node(name)
		if n == nil {
			return in, fmt.Errorf("replication-health: no node %s in the cluster", name)
		}
		conn, err := n.Connect(ctx)
		if err != nil {
			return in, fmt.Errorf("replication-health: connect to %s: %w", name, err)
		}
		conns[name] = conn
	}
	var samples []verify.SubSample
	what := fmt.Sprintf("subscriptions among %s to be %s (or disabled)", strings.Join(survivors, ", "), harness.Replicating)
	start := time.Now()
	waitErr := harness.WaitFor(ctx, what, replHealthWait, 500*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		samples = samples[:0]
		var pending []string
		for _, sub := range survivors {
			status, err := c.SubscriptionStatuses(ctx, conns[sub])
			if err != nil {
				return false, "", fmt.Errorf("subscription status on %s: %w", sub, err)
			}
			now := time.Now().UTC()
			for _, prov := range survivors {
				name := c.Flavor.SubscriptionName(sub, prov)
				s, ok := status[name]
				if prov == sub || !ok {
					continue // a pair with no subscription is convergence's to judge
				}
				samples = append(samples, verify.SubSample{Node: sub, Subscription: name, Status: s, At: now})
				if s != harness.Replicating && s != "disabled" {
					pending = append(pending, sub+": "+name+" "+s)
				}
			}
		}
		return len(pending) == 0, strings.Join(pending, ", "), nil
	})
	in.Samples = samples
	in.Waited = fmt.Sprintf("waited %s of at most %s for %s", time.Since(start).Round(100*time.Millisecond), replHealthWait, what)
	if waitErr != nil && len(samples) == 0 {
		return in, fmt.Errorf("replication-health: %w", waitErr)
	}
	return in, nil
}

// subscriptionEvidence adds to in, for each subscriber, the server-log
// lines about its subscriptions, its last error (harness.LastError, the
// reason WaitLinks gives too) and, on Spock, its spock.exception_log rows.
// Evidence it cannot read is left out: it explains, it does not judge.
func subscriptionEvidence(ctx context.Context, c *harness.Cluster, in *verify.ReplicationHealthInput) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	subsOf := map[string][]string{}
	var nodes []string
	for _, s := range in.Samples {
		if !slices.Contains(nodes, s.Node) {
			nodes = append(nodes, s.Node)
		}
		subsOf[s.Node] = append(subsOf[s.Node], s.Subscription)
	}
	in.Fallback = map[string]string{}
	for _, name := range nodes {
		n := c.Node(name)
		if n == nil || n.Container == nil {
			continue
		}
		if data, err := c.ServerLog(ctx, n); err == nil {
			in.Logs = append(in.Logs, verify.ParseSubscriptionLog(name, data, subsOf[name])...)
			in.Fallback[name] = harness.LastError(data)
		}
		if c.Flavor.Name() == "spock" {
			in.Logs = append(in.Logs, exceptionLogRows(ctx, n, subsOf[name])...)
		}
	}
}

// exceptionLogRows reads spock.exception_log on n, if the table exists,
// as JSON rows (its columns differ by Spock version: row_to_json reads
// them by name, none is assumed), keeping the rows that name one of subs.
func exceptionLogRows(ctx context.Context, n *harness.Node, subs []string) []verify.SubLogLine {
	conn, err := n.Connect(ctx)
	if err != nil {
		return nil
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables
  WHERE table_schema = 'spock' AND table_name = 'exception_log')`).Scan(&exists); err != nil || !exists {
		return nil
	}
	rows, err := conn.Query(ctx, `SELECT row_to_json(e)::text FROM spock.exception_log e`)
	if err != nil {
		return nil
	}
	var out []verify.SubLogLine
	var row string
	_, _ = pgx.ForEachRow(rows, []any{&row}, func() error {
		for _, sub := range subs {
			if strings.Contains(row, sub) {
				out = append(out, verify.SubLogLine{Node: n.Name, Subscription: sub, Line: "spock.exception_log " + row})
			}
		}
		return nil
	})
	return out
}
