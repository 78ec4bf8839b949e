package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// Finding is a defect of the system under test, proven on one flavor,
// that a scenario can hit there: on that flavor the scenario's verdict is
// its Expect, or a FAIL that Explains attributes to the finding, every
// differing row of it. Anything else is still a failure of the spec.
// Record the facts in README ("Testing a Spock build") and the scenario's
// doc, and drop the finding when the flavor fixes it.
type Finding struct {
	// Flavor is the flavor the finding was proven on.
	Flavor string
	// Name is a short name for reports.
	Name string
	// Summary is the finding in one sentence.
	Summary string
	// DiscardLog is the server log line the subscriber that lost the
	// transaction writes when it discards it; the log's next line (its
	// CONTEXT) names the transaction's commit time.
	DiscardLog string
	// NotWith, if set, marks a discard line that is not this finding's
	// (another cause logged with it).
	NotWith string
}

// SpockDiscardAfterTerm: Spock 6.0 (main fd2c484) silently discards a
// transaction whose apply worker was ended by SIGTERM between its BEGIN
// and its COMMIT. handle_begin (src/spock_apply.c) stores every incoming
// transaction's commit_lsn in the subscription's shared-memory exception
// log entry; on SIGTERM (pg_terminate_backend, or sub_disable(name, true),
// which kills the worker with SIGTERM) apply_work breaks out of its
// message loop with the entry still set ("falling out of apply_work()
// sigterm=true"): only the connection-error and deadlock paths clear it
// (clear_transient_exception_state). The provider resends the transaction
// (the origin never passed it); the new worker's first BEGIN carries the
// same commit_lsn, so handle_begin takes it for a transaction that failed
// before and sets use_try_block; under the default
// spock.exception_behaviour = transdiscard handle_commit then logs every
// row to spock.exception_log as "transdiscard: tuple discarded due to
// exception (root cause not captured)", commits nothing of it and
// advances the origin past it ("Transaction discarded in TRANSDISCARD mode
// at LSN ..."). No error ever occurred.
var SpockDiscardAfterTerm = Finding{
	Flavor: "spock", Name: "spock-discards-txn-after-sigterm",
	Summary:    "a transaction whose apply worker got SIGTERM (pg_terminate_backend, or sub_disable immediate) between BEGIN and COMMIT is discarded by the next worker under exception_behaviour transdiscard",
	DiscardLog: "Transaction discarded in TRANSDISCARD mode",
	// A discard with an "Initial error" had one (e.g. SQLSTATE 57014 of
	// a cancel of the worker): SIGTERM leaves none (handle_commit's LOG).
	NotWith: ". Initial error: ",
}

// FindingFor is the finding of spec on flavor, or nil.
func (s *Spec) FindingFor(flavor string) *Finding {
	for i := range s.KnownFindings {
		if s.KnownFindings[i].Flavor == flavor {
			return &s.KnownFindings[i]
		}
	}
	return nil
}

// Explains says whether the finding accounts for every differing row of
// a failed run: each divergence class of the convergence checker is rows
// absent on some nodes (no differing columns), and each node lacking them
// logged the discard of a transaction committed at the class's first and
// last commit time. It returns why not, or what it matched.
func (f Finding) Explains(dir string, checkers []verify.CheckResult) (bool, string) {
	var conv *verify.CheckResult
	for i := range checkers {
		if checkers[i].Name == CheckConvergence {
			conv = &checkers[i]
		}
	}
	if conv == nil || conv.Verdict != verify.Fail {
		return false, "the convergence check did not fail: nothing for " + f.Name + " to explain"
	}
	classes := reports.DivergenceOf([]verify.CheckResult{*conv})
	if len(classes) == 0 {
		return false, "the failed convergence check has no divergence class"
	}
	var matched []string
	for _, c := range classes {
		if len(c.AbsentOn) == 0 || len(c.DifferingColumns) > 0 {
			return false, "not rows missing on some node: " + c.Line
		}
		if c.FirstCommit == nil || c.LastCommit == nil {
			return false, "no commit time to match: " + c.Line
		}
		for _, node := range c.AbsentOn {
			discarded, err := discardedCommits(filepath.Join(record.NodeDir(dir, node), "server.log"), f.DiscardLog, f.NotWith)
			if err != nil {
				return false, fmt.Sprintf("%s: %v", node, err)
			}
			for _, t := range []time.Time{*c.FirstCommit, *c.LastCommit} {
				ts := pgTimestamp(t)
				if !discarded[ts] {
					return false, fmt.Sprintf("%s never logged %q for the transaction committed at %s (%s)", node, f.DiscardLog, ts, c.Line)
				}
			}
			matched = append(matched, fmt.Sprintf("%s discarded the transaction committed at %s", node, pgTimestamp(*c.FirstCommit)))
		}
	}
	return true, f.Name + ": " + strings.Join(matched, "; ")
}

// discardedCommits reads a server log for discard lines (holding
// discardLog, not notWith when set) and returns the commit times their
// CONTEXT lines name ("... committed at <ts> ...").
func discardedCommits(path, discardLog, notWith string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the server log: %w", err)
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pending := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, discardLog) && (notWith == "" || !strings.Contains(line, notWith)) {
			pending = true
			continue
		}
		if pending {
			pending = false
			if _, rest, ok := strings.Cut(line, " committed at "); ok && strings.Contains(line, "CONTEXT:") {
				ts, _, _ := strings.Cut(rest, "+00")
				out[ts+"+00"] = true
			}
		}
	}
	return out, sc.Err()
}

// pgTimestamp formats t as PostgreSQL prints a timestamptz in a UTC log
// (microseconds, trailing zeros trimmed).
func pgTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
}
