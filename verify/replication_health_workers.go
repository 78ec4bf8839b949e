package verify

import (
	"fmt"
	"sort"
	"strings"
)

// applyStartMarks are the lines an apply worker logs as it starts, before
// the subscription's name, and what must follow the name: pglogical 2
// ("starting apply for subscription <sub>", LOG) and Spock ("SPOCK <sub>:
// starting apply worker", DEBUG1: seen only with log_min_messages at
// debug1; "SPOCK <sub>: connected", LOG, once the worker reached its
// provider: 5.0.x and 6.0; whole: the line ends there).
var applyStartMarks = []struct {
	before, after string
	whole         bool
}{
	{"starting apply for subscription ", "", false},
	{"SPOCK ", ": starting apply", false},
	{"SPOCK ", ": connected", true},
}

// applyStart reads an apply worker's start line: its subscription (one
// of subs) and pid.
func applyStart(line string, subs []string) (sub, pid string, ok bool) {
	for _, mark := range applyStartMarks {
		_, rest, found := strings.Cut(line, mark.before)
		if !found {
			continue
		}
		for _, s := range subs {
			after := strings.TrimPrefix(rest, s)
			if strings.HasPrefix(rest, s) && namesWord(rest, s) && (after == mark.after || !mark.whole && strings.HasPrefix(after, mark.after)) {
				return s, logPID(line), logPID(line) != ""
			}
		}
	}
	return "", "", false
}

// logPID is the process id of a server-log line ("... UTC [32] ...": the
// first bracketed field after the time), "" when it has none.
func logPID(line string) string {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[3], "[") || !strings.HasSuffix(f[3], "]") {
		return ""
	}
	return strings.Trim(f[3], "[]")
}

// workerErrors says, when the subscription's apply worker ended on errors
// outside every fault window, how often, when, its status now and the
// last error; "" when it never did.
func workerErrors(name string, s SubSample, lines []SubLogLine, faults []SubFault) string {
	var errs []SubLogLine
	for _, l := range lines {
		if l.WorkerError && !duringFault(l.At, faults) {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		return ""
	}
	first, last := errs[0], errs[len(errs)-1]
	times := "once"
	if len(errs) > 1 {
		times = fmt.Sprintf("%d times", len(errs))
	}
	return fmt.Sprintf("%s: its apply worker ended on an error %s with no fault on it (%s to %s; now %s); server: %s",
		name, times, stamp(first.At), stamp(last.At), s.Status, reason(distinctErrors(errs), ""))
}

// distinctErrors keeps the last line of each distinct error message, in
// time order, so that the reason shows every kind, not three of one.
func distinctErrors(errs []SubLogLine) []SubLogLine {
	seen := map[string]int{}
	var out []SubLogLine
	for _, l := range errs {
		_, msg, _ := strings.Cut(l.Line, "ERROR:")
		if i, ok := seen[msg]; ok {
			out[i] = l
			continue
		}
		seen[msg] = len(out)
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}
