package scenarios

import (
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// divergenceEvidence is, for every divergence class of the run's checkers,
// what the servers of the nodes lacking (or differing in) its rows said
// about them (verify.FindEvidence): their server logs as collected for
// the record, and the exception_log rows exception-audit read, if it ran.
// Nil for a run without divergence classes.
func (r *run) divergenceEvidence() []record.ClassEvidence {
	classes := reports.DivergenceOf(r.report.Checkers)
	if len(classes) == 0 || r.cluster == nil {
		return nil
	}
	in := verify.EvidenceInput{Classes: classes, Logs: map[string][]byte{}, Subscriptions: map[string]map[string]string{}}
	for _, n := range r.report.Nodes {
		if n.ServerLog != nil {
			in.Logs[n.Name] = n.ServerLog
		}
	}
	for _, sub := range r.cluster.Nodes {
		in.Subscriptions[sub.Name] = map[string]string{}
		for _, origin := range r.cluster.Nodes {
			if origin != sub {
				in.Subscriptions[sub.Name][origin.Name] = r.cluster.Flavor.SubscriptionName(sub.Name, origin.Name)
			}
		}
	}
	if r.exceptions != nil {
		in.Exceptions = r.exceptions.Exceptions
	}
	return verify.FindEvidence(in)
}
