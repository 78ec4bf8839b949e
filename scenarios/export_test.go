package scenarios

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
)

// Exported for the specs of package scenarios_test.
var (
	RecoveryRecord = recoveryRecord
	KeeperRecord   = keeperRecord
	// ReplicationHealth is the replication-health checker on a cluster.
	ReplicationHealth = replicationHealth
	// ExceptionAudit is the exception-audit checker on a cluster.
	ExceptionAudit = exceptionAudit
	// AfterStalledQuiesce decides a run whose quiesce did not complete.
	AfterStalledQuiesce = afterStalledQuiesce
	ErrNotQuiesced      = errNotQuiesced
)

// StepKindKnown reports whether the runner has an entry for kind in its
// step table.
func StepKindKnown(kind string) bool {
	_, ok := stepKinds[kind]
	return ok
}

// ValidateSpec is Spec.validate (what Register checks).
func ValidateSpec(s *Spec) error { return s.validate() }

// HeldPart is one fault of a held step (group.go).
type HeldPart = heldPart

// NewHeldPart is a part that does mode on node.
func NewHeldPart(node string, mode fault.Mode) HeldPart { return heldPart{node: node, mode: mode} }

// RunGroupBare runs steps as one group (group.go) on a run without a
// cluster, the faults of each step from partsOf; it returns the run
// record's faults and what the run printed.
func RunGroupBare(ctx context.Context, steps []Step, partsOf func(Step) []HeldPart) ([]record.Fault, string, error) {
	var out strings.Builder
	r := &run{report: &record.Run{}, out: &progress{w: &out}, loadStart: time.Now()}
	err := r.runGroup(ctx, steps, partsOf)
	return r.report.Faults, out.String(), err
}

// OverlapRefusal is overlapRefusal (why later may not start while
// earlier is in force; "" when it may).
var OverlapRefusal = overlapRefusal

// RunGroupOn runs steps as one group on cluster c by the runner's step
// table, without CheckPlan (so that a spec can plant a pair it refuses).
func RunGroupOn(ctx context.Context, c *harness.Cluster, steps []Step) ([]record.Fault, error) {
	r := &run{cluster: c, report: &record.Run{}, out: &progress{w: io.Discard}, loadStart: time.Now()}
	err := r.doGroup(ctx, steps)
	return r.report.Faults, err
}

// DDL under load (steps_ddl.go, ddl_check.go).
var (
	JudgeDDL      = judgeDDL
	WorkloadTable = workloadTable
)

// DDLScript is newDDLScript's statements and names.
func DDLScript(table, tag string) (statements []string, column, newTable string) {
	s := newDDLScript(table, tag)
	return s.Statements, s.Column, s.NewTable
}

// DuplicatesAcrossCrash is the crash rule on one node's duplicates and
// server log (explainDuplicates).
func DuplicatesAcrossCrash(n verify.WALNodeCapture, log string) (bool, string) {
	return explainDuplicates(n, crashRecoveries([]byte(log)))
}

// ServerDisabled is serverDisabled on subscriptions given as
// {subscriber, subscription} pairs.
func ServerDisabled(subs [][2]string, statuses map[string]map[string]string, lines []verify.SubLogLine, since time.Time) (verify.SubLogLine, bool) {
	var ts []touchedSub
	for _, s := range subs {
		ts = append(ts, touchedSub{node: s[0], sub: s[1]})
	}
	_, l, ok := serverDisabled(ts, statuses, lines, since)
	return l, ok
}

// SubsAmong is subsAmong as {subscriber, subscription} pairs.
func SubsAmong(targets []string, name func(sub, prov string) string) [][2]string {
	var out [][2]string
	for _, t := range subsAmong(targets, name) {
		out = append(out, [2]string{t.node, t.sub})
	}
	return out
}

// ServerMayHaveAnswered is serverMayHaveAnswered.
var ServerMayHaveAnswered = serverMayHaveAnswered

// DisabledAmong is disabledAmong on {subscriber, subscription, provider}
// triples, answered as {subscriber, subscription} pairs.
func DisabledAmong(disabled [][3]string, alive []string) [][2]string {
	m := map[touchedSub]int{}
	for i, d := range disabled {
		m[touchedSub{d[0], d[1], d[2]}] = i
	}
	var out [][2]string
	for _, t := range disabledAmong(m, alive) {
		out = append(out, [2]string{t.node, t.sub})
	}
	return out
}

var ProgressNodes = progressNodes
