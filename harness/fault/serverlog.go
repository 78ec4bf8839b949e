package fault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Server log messages the worker faults prove themselves by.
const (
	logCanceled = "canceling statement due to user request"
	logDeadlock = "deadlock detected"
)

// backendLogLine is the first line of a server log written by process pid
// (the default log_line_prefix '%m [%p] ' puts "[pid]" in every line)
// that holds message, with the CONTEXT lines that follow it; "" when
// there is none.
func backendLogLine(log string, pid int, message string) string {
	tag := fmt.Sprintf("[%d]", pid)
	lines := strings.Split(log, "\n")
	for i, line := range lines {
		if !strings.Contains(line, tag) || !strings.Contains(line, message) {
			continue
		}
		out := []string{strings.TrimSpace(line)}
		for _, next := range lines[i+1:] {
			if !strings.Contains(next, "CONTEXT:") && !strings.HasPrefix(next, "\t") {
				break
			}
			out = append(out, strings.TrimSpace(next))
		}
		return strings.Join(out, " | ")
	}
	return ""
}

// anyBackendLogLine is backendLogLine for the first of pids that logged
// message, and that pid (0 when none did).
func anyBackendLogLine(log string, pids []int, message string) (int, string) {
	for _, pid := range pids {
		if line := backendLogLine(log, pid, message); line != "" {
			return pid, line
		}
	}
	return 0, ""
}

// logSize is the length of n's server log now (0 when it cannot be
// read): an effect check reads only what was logged after it.
func logSize(ctx context.Context, c *harness.Cluster, n *harness.Node) int {
	if n == nil {
		return 0
	}
	log, err := c.ServerLog(ctx, n)
	if err != nil {
		return 0
	}
	return len(log)
}

// waitLogLine waits until n's server log, from byte from on, shows
// message from one of pids, and returns the pid and the line.
func waitLogLine(ctx context.Context, c *harness.Cluster, n *harness.Node, from int, pids []int, message string, timeout time.Duration) (int, string, error) {
	var pid int
	var line string
	what := fmt.Sprintf("%q from process %v in the server log of %s", message, pids, n.Name)
	err := harness.WaitFor(ctx, what, timeout, 250*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		log, err := c.ServerLog(ctx, n)
		if err != nil {
			return false, err.Error(), nil
		}
		if from > len(log) {
			from = 0 // the log restarted
		}
		pid, line = anyBackendLogLine(string(log[from:]), pids, message)
		return line != "", "not logged", nil
	})
	return pid, line, err
}

// lastDiscardLine is the last line of a server log that says a
// transaction was discarded (Spock: "Transaction discarded in
// TRANSDISCARD mode at LSN ... Initial error: ..."), or "".
func lastDiscardLine(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(lines[i]), "transaction discarded") {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}

// discardLine is lastDiscardLine of n's server log from byte from on:
// the evidence a lost transaction's error names first.
func discardLine(ctx context.Context, c *harness.Cluster, n *harness.Node, from int) string {
	log, err := c.ServerLog(ctx, n)
	if err != nil || from > len(log) {
		return ""
	}
	return lastDiscardLine(string(log[from:]))
}
