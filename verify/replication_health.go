package verify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// JudgeReplicationHealth decides, from the survivors' subscription
// statuses at the end, the fault windows that disabled a subscription on
// purpose (SubscriptionFaults: a fault whose start names the subscription)
// and the subscribers' log lines about them (ParseSubscriptionLog), that
// every subscription is replicating and was never disabled by the server
// itself outside a fault; a fault still in force excuses its subscription
// with a note. A failure names node, subscription, status, time and the
// server's reason. Pure: the sampling is the scenarios package's.

// ReplicationHealthCheckName is the replication-health checker's name.
const ReplicationHealthCheckName = "replication-health"

// Subscription statuses the decision knows (both flavors report these
// words in their status function).
const (
	subReplicating = "replicating"
	subDisabled    = "disabled"
)

// SubSample is one subscription's status as a survivor reported it.
type SubSample struct {
	Node         string    `json:"node"` // the subscriber
	Subscription string    `json:"subscription"`
	Status       string    `json:"status"`
	At           time.Time `json:"at"`
}

// SubFault is a fault that disabled a subscription on purpose (a lag, a
// subscription restart): from Start until End; End zero means still in
// force at the end of the run.
type SubFault struct {
	Kind         string    `json:"kind"`
	Node         string    `json:"node"` // the subscriber
	Subscription string    `json:"subscription"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end,omitempty"`
}

// SubLogLine is a server-log line (or a spock.exception_log row) of a
// subscriber about one of its subscriptions.
type SubLogLine struct {
	Node         string    `json:"node"`
	Subscription string    `json:"subscription"`
	At           time.Time `json:"at,omitempty"` // zero when the line has no readable time
	Line         string    `json:"line"`
	// SelfDisable: the server says it disabled (or will disable) the
	// subscription by itself.
	SelfDisable bool `json:"self_disable,omitempty"`
	// WorkerError: an ERROR (or FATAL) of the subscription's apply worker
	// (its pid, from the line that started it), which ends that worker.
	WorkerError bool `json:"worker_error,omitempty"`
}

// ReplicationHealthInput is what the decision judges.
type ReplicationHealthInput struct {
	Samples []SubSample  // each subscription among the survivors, at the end
	Faults  []SubFault   // faults that disabled subscriptions on purpose
	Logs    []SubLogLine // what the subscribers' servers said about them
	// Fallback is, per subscriber node, the last error of its server log:
	// the reason given when no line names the subscription.
	Fallback map[string]string
	Waited   string // what was waited for before the samples, in words
	// WorkerErrorsFail makes an apply worker ended by an error outside
	// every fault window a failure of its subscription (it did not stay
	// replicating), even when a new worker replicates at the end: for a
	// scenario whose workload is known to stop apply workers.
	WorkerErrorsFail bool
}

// SubFinding is the judgement of one subscription.
type SubFinding struct {
	Node         string  `json:"node"`
	Subscription string  `json:"subscription"`
	Status       string  `json:"status"`
	Verdict      Verdict `json:"verdict"`
	Note         string  `json:"note"`
}

// faultSlack widens a fault's window on both ends when a log line's time
// is matched against it: the server logs the disable a moment after the
// harness recorded the fault's start, and the enable before the heal was
// recorded as done.
const faultSlack = 2 * time.Second

// JudgeReplicationHealth decides the replication-health checker: every
// subscription among the survivors must be replicating at the end, and
// must never have been disabled by the server itself, unless a fault did
// it. A subscription still disabled by a fault in force at the end passes
// with a note; one still not replicating after its fault healed fails.
// Each failure names the subscription, when, and the server's reason.
func JudgeReplicationHealth(in ReplicationHealthInput) CheckResult {
	c := CheckResult{Name: ReplicationHealthCheckName}
	if len(in.Samples) == 0 {
		c.Verdict, c.Summary = Unknown, "no subscription among the survivors to judge"
		return c
	}
	samples := append([]SubSample(nil), in.Samples...)
	sort.Slice(samples, func(i, j int) bool {
		if samples[i].Node != samples[j].Node {
			return samples[i].Node < samples[j].Node
		}
		return samples[i].Subscription < samples[j].Subscription
	})
	var findings []SubFinding
	var failed, notes []string
	for _, s := range samples {
		f := judgeSubscription(s, in)
		findings = append(findings, f)
		switch {
		case f.Verdict == Fail:
			failed = append(failed, f.Note)
		case f.Note != "":
			notes = append(notes, f.Note)
		}
	}
	c.Details = findings
	wait := ""
	if in.Waited != "" {
		wait = " (" + in.Waited + ")"
	}
	if len(failed) > 0 {
		c.Verdict = Fail
		c.Summary = strings.Join(failed, "; ") + wait
		return c
	}
	c.Verdict = Pass
	c.Summary = fmt.Sprintf("%d subscriptions replicating, none disabled by the server", len(samples))
	if len(notes) > 0 {
		c.Summary += "; " + strings.Join(notes, "; ")
	}
	c.Summary += wait
	return c
}

// judgeSubscription judges one subscription's final sample against its
// faults and the log lines about it.
func judgeSubscription(s SubSample, in ReplicationHealthInput) SubFinding {
	f := SubFinding{Node: s.Node, Subscription: s.Subscription, Status: s.Status, Verdict: Pass}
	name := s.Node + ": " + s.Subscription
	var faults []SubFault
	for _, ft := range in.Faults {
		if ft.Node == s.Node && ft.Subscription == s.Subscription {
			faults = append(faults, ft)
		}
	}
	var lines []SubLogLine
	for _, l := range in.Logs {
		if l.Node == s.Node && l.Subscription == s.Subscription {
			lines = append(lines, l)
		}
	}
	for _, ft := range faults {
		if ft.End.IsZero() {
			if s.Status != subReplicating {
				f.Note = fmt.Sprintf("%s %s: its %s fault (since %s) is still in force", name, s.Status, ft.Kind, stamp(ft.Start))
			}
			return f
		}
	}
	// A self-disable outside every fault window fails, even re-enabled.
	for _, l := range lines {
		if l.SelfDisable && !duringFault(l.At, faults) {
			f.Verdict = Fail
			f.Note = fmt.Sprintf("%s disabled by the server itself at %s (now %s): %s", name, stamp(l.At), s.Status, l.Line)
			return f
		}
	}
	if note := workerErrors(name, s, lines, faults); note != "" && in.WorkerErrorsFail {
		f.Verdict, f.Note = Fail, note
		return f
	}
	if s.Status == subReplicating {
		return f
	}
	f.Verdict = Fail
	cause := "with no fault on it"
	if n := len(faults); n > 0 {
		cause = fmt.Sprintf("after its %s fault healed at %s", faults[n-1].Kind, stamp(faults[n-1].End))
	}
	f.Note = fmt.Sprintf("%s %s at %s %s; server: %s", name, s.Status, stamp(s.At), cause, reason(lines, in.Fallback[s.Node]))
	return f
}

// duringFault reports whether t falls inside one of faults' windows
// (widened by faultSlack); a line with no time is never excused.
func duringFault(t time.Time, faults []SubFault) bool {
	if t.IsZero() {
		return false
	}
	for _, f := range faults {
		if !t.Before(f.Start.Add(-faultSlack)) && (f.End.IsZero() || !t.After(f.End.Add(faultSlack))) {
			return true
		}
	}
	return false
}

// reason is the server's reason: the last (at most three) lines naming
// the subscription, else the subscriber's last error.
func reason(lines []SubLogLine, fallback string) string {
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.Line)
	}
	switch {
	case len(out) > 0:
		return strings.Join(out, " | ")
	case fallback != "":
		return "no line names it; last error: " + fallback
	default:
		return "no line names it and no error logged"
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("15:04:05.000")
}

// SubscriptionFaults are the fault windows of a history that disabled a
// subscription on purpose: a fault whose start event names it in its
// detail ("subscription", as the lag fault records). Heal closes the
// window (the fault's "healed" event if any, else its "heal").
func SubscriptionFaults(ops []history.Op) []SubFault {
	var out []SubFault
	for _, w := range history.FaultWindows(ops) {
		first := w.Events[0]
		sub, _ := first.Detail["subscription"].(string)
		if first.Phase != history.FaultStart || sub == "" {
			continue
		}
		out = append(out, SubFault{Kind: w.Kind, Node: w.Node, Subscription: sub, Start: w.Start, End: w.End})
	}
	return out
}

// ParseSubscriptionLog picks, from a subscriber's server log, the lines
// about each of subs: errors and disables naming it (pglogical: the apply
// worker's ERROR naming the subscription; Spock 6.0: "SPOCK <sub>:
// Transaction failed, subscription will be disabled", and in 6.0 and
// 5.0.11 alike "SPOCK <sub>: disabling subscription due to exception in
// SUB_DISABLE mode" / "disabling subscription <sub> due to exception(s)",
// texts read in src/spock_apply.c and src/spock_exception_handler.c of
// both releases). The time is read from the line's prefix (log_line_prefix
// '%m ...': "2006-01-02 15:04:05.000 UTC").
func ParseSubscriptionLog(node string, log []byte, subs []string) []SubLogLine {
	var out []SubLogLine
	workers := map[string]string{} // apply worker pid -> its subscription
	for _, line := range strings.Split(string(log), "\n") {
		line = strings.TrimSpace(line)
		if sub, pid, ok := applyStart(line, subs); ok {
			workers[pid] = sub
			continue
		}
		lower := strings.ToLower(line)
		disabled := strings.Contains(lower, "disabl")
		isErr := strings.Contains(line, "ERROR:") || strings.Contains(line, "FATAL:")
		if !disabled && !isErr {
			continue
		}
		worker, fromWorker := workers[logPID(line)]
		named := false
		for _, sub := range subs {
			if !namesWord(line, sub) {
				continue
			}
			named = true
			out = append(out, SubLogLine{Node: node, Subscription: sub, At: LogTime(line), Line: line,
				SelfDisable: strings.Contains(lower, "will be disabled") || strings.Contains(lower, "disabling subscription"),
				WorkerError: isErr && fromWorker && worker == sub})
		}
		if !named && isErr && fromWorker {
			out = append(out, SubLogLine{Node: node, Subscription: worker, At: LogTime(line), Line: line, WorkerError: true})
		}
	}
	return out
}

// namesWord reports whether line holds name not as part of a longer
// identifier (sub_n1_n2 is not in sub_n1_n23).
func namesWord(line, name string) bool {
	for i := 0; ; {
		j := strings.Index(line[i:], name)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !identByte(line[j-1])) && (end == len(line) || !identByte(line[end])) {
			return true
		}
		i = j + 1
	}
}

func identByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// LogTime reads the time at the start of a server-log line
// (log_line_prefix '%m ...'; zero when it has none).
func LogTime(line string) time.Time {
	f := strings.Fields(line)
	if len(f) < 3 {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02 15:04:05.000 MST", f[0]+" "+f[1]+" "+f[2])
	if err != nil {
		return time.Time{}
	}
	return t
}
