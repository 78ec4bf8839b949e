package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/spockchaos/spockchaos/verify"
)

// The crash rule of Explain (findings with AppliedAgainAfterCrash): a
// duplicate of double-apply is explained when its node's server log shows
// a crash recovery between each two of its local commits: the earlier
// commit at or before the recovery's "redo done at" LSN (it was in the
// WAL when the node crashed) and the later one past it (written after the
// recovery). LSNs decide, as the WAL is one timeline across a crash
// recovery; commit times, when the capture has them, must agree (the
// earlier before the recovery began, the later after the server was ready
// again). "last known up at" is not used: it is the last checkpoint's
// time, before the crash by seconds.

// crashRecovery is one crash recovery a server log shows.
type crashRecovery struct {
	began    time.Time     // "not properly shut down; automatic recovery in progress"
	redoDone pglogrepl.LSN // "redo done at": the last record written before the crash
	ready    time.Time     // "ready to accept connections" after it (zero: not seen)
	line     string        // "redo done at L (time)", for the report
}

// crashRecoveries reads the crash recoveries of a server log; one without
// a "redo done at" line (nothing to replay) has no boundary and is left out.
func crashRecoveries(log []byte) []crashRecovery {
	var out []crashRecovery
	var cur *crashRecovery
	for _, line := range strings.Split(string(log), "\n") {
		switch {
		case strings.Contains(line, "was not properly shut down; automatic recovery in progress"):
			cur = &crashRecovery{began: verify.LogTime(line)}
		case cur != nil && cur.redoDone == 0 && strings.Contains(line, "redo done at "):
			_, rest, _ := strings.Cut(line, "redo done at ")
			lsn, err := pglogrepl.ParseLSN(strings.Fields(rest)[0])
			if err != nil {
				cur = nil
				continue
			}
			cur.redoDone = lsn
			cur.line = fmt.Sprintf("redo done at %s (%s)", lsn, verify.LogTime(line).Format("15:04:05.000"))
		case cur != nil && strings.Contains(line, "database system is ready to accept connections"):
			if cur.redoDone != 0 {
				cur.ready = verify.LogTime(line)
				out = append(out, *cur)
			}
			cur = nil
		}
	}
	return out
}

// straddles says whether recovery r lies between local commits a and b
// (a written before the crash, b after the recovery); why not otherwise.
func (r crashRecovery) straddles(a, b verify.WALCommit) (bool, string) {
	la, err1 := pglogrepl.ParseLSN(a.LSN)
	lb, err2 := pglogrepl.ParseLSN(b.LSN)
	if err1 != nil || err2 != nil {
		return false, fmt.Sprintf("unreadable commit LSN %q or %q", a.LSN, b.LSN)
	}
	if la > r.redoDone || lb <= r.redoDone {
		return false, fmt.Sprintf("xid %d at %s and xid %d at %s are not on either side of redo done at %s", a.XID, a.LSN, b.XID, b.LSN, r.redoDone)
	}
	ta, tb := walCommitTime(a.At), walCommitTime(b.At)
	if !ta.IsZero() && !r.began.IsZero() && !ta.Before(r.began) {
		return false, fmt.Sprintf("xid %d committed at %s, not before the recovery began (%s)", a.XID, a.At, r.began.Format(time.TimeOnly))
	}
	if !tb.IsZero() && !r.ready.IsZero() && tb.Before(r.ready) {
		return false, fmt.Sprintf("xid %d committed at %s, before the server was ready again (%s)", b.XID, b.At, r.ready.Format(time.TimeOnly))
	}
	return true, ""
}

// walCommitTime parses pg_waldump's commit time (zero when absent).
func walCommitTime(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999999 MST", s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// explainDuplicates says whether every duplicate of one node was
// committed again across one of its crash recoveries: each two
// consecutive local commits straddle a recovery (see the crash rule).
// Every duplicate must be listed (a capture bounds its list,
// verify.DuplicatesShown): one not listed cannot be judged.
func explainDuplicates(n verify.WALNodeCapture, recs []crashRecovery) (bool, string) {
	if len(recs) == 0 {
		return false, fmt.Sprintf("%s applied %d remote transactions twice, and its server log shows no crash recovery", n.Node, n.Duplicated)
	}
	if len(n.Duplicates) == 0 {
		return false, fmt.Sprintf("%s applied %d remote transactions twice, none listed to match", n.Node, n.Duplicated)
	}
	used := map[string]bool{}
	for _, d := range n.Duplicates {
		for i := 1; i < len(d.Commits); i++ {
			why := ""
			j := slices.IndexFunc(recs, func(r crashRecovery) bool {
				ok, w := r.straddles(d.Commits[i-1], d.Commits[i])
				why = w
				return ok
			})
			if j < 0 {
				return false, fmt.Sprintf("%s: origin %d lsn %s: no crash recovery between its commits (%s)", n.Node, d.Origin, d.OriginLSN, why)
			}
			used[recs[j].line] = true
		}
	}
	if len(n.Duplicates) < n.Duplicated {
		return false, fmt.Sprintf("%s applied %d remote transactions twice, and only %d are listed to match: the rest cannot be judged", n.Node, n.Duplicated, len(n.Duplicates))
	}
	var lines []string
	for _, r := range recs {
		if used[r.line] {
			lines = append(lines, r.line)
		}
	}
	return true, fmt.Sprintf("%s applied %d remote transactions again after its crash recovery (the %d listed each committed before %s and again after)",
		n.Node, n.Duplicated, len(n.Duplicates), strings.Join(lines, ", "))
}

// tooManyLine is a delta-counter violation above every increment: the
// shape an increment applied twice gives.
var tooManyLine = regexp.MustCompile(`^key (\d+) on (\S+): .* (\d+) too many$`)

// explainTooMany says whether every delta-counter violation is a counter
// too high on a node that applied transactions again after its crash
// (doubled); it returns the keys too high per node.
func explainTooMany(lines []string, doubled map[string]bool) (map[string]map[string]bool, string) {
	if len(lines) == 0 {
		return nil, "delta-counter failed with no violation listed"
	}
	keys := map[string]map[string]bool{}
	for _, l := range lines {
		m := tooManyLine.FindStringSubmatch(l)
		if m == nil {
			return nil, "not a counter above its increments: " + l
		}
		if !doubled[m[2]] {
			return nil, fmt.Sprintf("%s: %s did not apply transactions again after a crash recovery", l, m[2])
		}
		if keys[m[2]] == nil {
			keys[m[2]] = map[string]bool{}
		}
		keys[m[2]][m[1]] = true
	}
	return keys, ""
}

// The delta-counter workload's table and its delta-apply column
// (workload.DeltaSchema).
const (
	deltaTable  = "public.delta_counter"
	deltaColumn = "n"
	deltaKey    = "k"
)

// explainDeltaRows says whether every differing row of delta_counter is a
// counter doubled on a node that applied again after its crash: present
// everywhere, differing in n only, the nodes that did not apply again
// agreeing, and each node that differs from them doubled with
// delta-counter's "too many" for that key (tooMany). Every row must be
// listed (a capped list explains nothing).
func explainDeltaRows(t verify.TableResult, doubled map[string]bool, tooMany map[string]map[string]bool) (bool, string) {
	if int64(len(t.Rows)) != t.DifferingRows || len(t.Rows) == 0 {
		return false, fmt.Sprintf("%s: %d of its %d differing rows listed", t.Table, len(t.Rows), t.DifferingRows)
	}
	for _, r := range t.Rows {
		if len(r.AbsentOn) > 0 || !slices.Equal(r.DifferingColumns, []string{deltaColumn}) {
			return false, fmt.Sprintf("%s %s: not a counter differing in %s only", t.Table, r.KeyText, deltaColumn)
		}
		clean, odd := "", []string{}
		for _, v := range r.Versions {
			if !doubled[v.Node] {
				val := deref(v.Values[deltaColumn])
				if clean != "" && val != clean {
					return false, fmt.Sprintf("%s %s: nodes that never applied again disagree (%s, %s)", t.Table, r.KeyText, clean, val)
				}
				clean = val
			}
		}
		if clean == "" {
			return false, fmt.Sprintf("%s %s: no node that never applied again to compare with", t.Table, r.KeyText)
		}
		key := deref(r.Key[deltaKey])
		for _, v := range r.Versions {
			if deref(v.Values[deltaColumn]) == clean {
				continue
			}
			if !tooMany[v.Node][key] {
				return false, fmt.Sprintf("%s %s on %s: %s, and delta-counter did not find it above its increments there", t.Table, r.KeyText, v.Node, deref(v.Values[deltaColumn]))
			}
			odd = append(odd, v.Node)
		}
		if len(odd) == 0 {
			return false, fmt.Sprintf("%s %s: no node differs", t.Table, r.KeyText)
		}
	}
	return true, ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
