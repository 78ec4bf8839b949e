package verify

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Double apply: a subscriber applies each remote transaction once, and
// marks its local commit record with the replication origin it came from
// and the provider's commit LSN (xl_xact_origin: "origin: node N, lsn L"
// in pg_waldump). Two local commits with the same origin and origin LSN
// are one remote transaction applied twice, whatever the rows show: with
// last-update-wins the second apply may change nothing visible, with
// Spock's delta apply it adds every increment again. The checker reads
// every survivor's WAL still on disk (pg_waldump -r Transaction, from a
// sidecar of the tools image of the server's major), so it covers the run
// from the oldest segment not yet recycled; a run's WAL rarely reaches a
// recycle (max_wal_size), and the capture says where it starts. An origin
// LSN of 0/0 (a commit with an origin but no remote position: table
// copies) is never a duplicate, nor is a commit that wrote only the
// replication system's own tables (AppliedData). A node whose WAL could not be read makes
// the checker unknown; a server major with no pg_waldump in the tools
// image makes it skipped, never a pass.

// DoubleApplyCheckName is the double-apply checker's name.
const DoubleApplyCheckName = "double-apply"

// WALCommit is one local commit record that carries a replication origin.
type WALCommit struct {
	XID       uint32 `json:"xid"`
	LSN       string `json:"lsn"`        // the local commit record's LSN
	Origin    int    `json:"origin"`     // the replication origin id (roident; Spock: the origin node's node_id)
	OriginLSN string `json:"origin_lsn"` // the provider's commit LSN
	// At is the local commit's time as pg_waldump prints it ("2026-12-06
	// 08:29:51.625768 UTC"; empty when the line had none).
	At string `json:"at,omitempty"`
	// Rels are the relfilenodes the transaction wrote (nil: not read).
	Rels []uint32 `json:"rels,omitempty"`
}

// walCommitLine matches a pg_waldump Transaction record with an origin.
var walCommitLine = regexp.MustCompile(`tx:\s*(\d+), lsn: ([0-9A-F]+/[0-9A-F]+),.*desc: COMMIT (?:(\d{4}-\d\d-\d\d [0-9:.]+ [A-Z]+))?.*origin: node (\d+), lsn ([0-9A-F]+/[0-9A-F]+),`)

// walRels matches the sidecar's list of relfilenodes a commit wrote.
var walRels = regexp.MustCompile(` rels:([ 0-9]*)$`)

// ParseWALCommits takes pg_waldump's output (full lines, or the
// sidecar's) and returns the commit records that carry an origin, in WAL
// order, and the last "pg_waldump:" line (where and why it stopped: the
// end of the WAL on disk is an "invalid record length" error).
func ParseWALCommits(out string) (commits []WALCommit, stop string) {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "pg_waldump:") {
			stop = strings.TrimSpace(line)
			continue
		}
		m := walCommitLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		xid, err1 := strconv.ParseUint(m[1], 10, 32)
		origin, err2 := strconv.Atoi(m[4])
		if err1 != nil || err2 != nil {
			continue
		}
		c := WALCommit{XID: uint32(xid), LSN: m[2], Origin: origin, OriginLSN: m[5], At: m[3]}
		if r := walRels.FindStringSubmatch(line); r != nil {
			c.Rels = []uint32{}
			for _, f := range strings.Fields(r[1]) {
				if n, err := strconv.ParseUint(f, 10, 32); err == nil {
					c.Rels = append(c.Rels, uint32(n))
				}
			}
		}
		commits = append(commits, c)
	}
	return commits, stop
}

// DuplicateApply is one remote transaction (origin, origin LSN) committed
// more than once on a node.
type DuplicateApply struct {
	Node       string      `json:"node"`
	Origin     int         `json:"origin"`
	OriginName string      `json:"origin_name,omitempty"`
	OriginLSN  string      `json:"origin_lsn"`
	Commits    []WALCommit `json:"commits"`
}

// AppliedData keeps the commits that wrote data: those whose relations
// were read (Rels non-nil) and include one that is not the replication
// system's own (own: its catalog's relfilenodes, e.g. Spock 5.0.x's
// spock.progress, which the worker updates about once a second in a
// transaction of its own that carries the origin and the LSN of the last
// remote commit). Commits whose relations were not read are kept.
func AppliedData(commits []WALCommit, own map[uint32]bool) []WALCommit {
	out := make([]WALCommit, 0, len(commits))
	for _, c := range commits {
		if c.Rels == nil || slices.ContainsFunc(c.Rels, func(r uint32) bool { return !own[r] }) {
			out = append(out, c)
		}
	}
	return out
}

// FindDuplicateApplies groups a node's commits by origin and origin LSN
// and returns every group of two or more, ordered by first local commit.
func FindDuplicateApplies(node string, commits []WALCommit) []DuplicateApply {
	type key struct {
		origin int
		lsn    string
	}
	groups := map[key][]WALCommit{}
	var order []key
	for _, c := range commits {
		if c.OriginLSN == "0/0" {
			continue
		}
		k := key{c.Origin, c.OriginLSN}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c)
	}
	var out []DuplicateApply
	for _, k := range order {
		if g := groups[k]; len(g) > 1 {
			out = append(out, DuplicateApply{Node: node, Origin: k.origin, OriginLSN: k.lsn, Commits: g})
		}
	}
	return out
}

// PinnedReplay is a harness recovery's replay on Node under its origin
// Origin (by name) whose commits all carry one origin LSN, LSN: the
// reference recovery on Spock, whose stream has no origin LSN, keeps the
// origin where it was until the replay is proven complete. Its commits
// share that LSN by design; they are the harness's, not a second apply.
type PinnedReplay struct {
	Node, Origin, LSN string
}

// sameLSN compares two LSNs in any of PostgreSQL's spellings ("0/0170CA10"
// and "0/170CA10" are one).
func sameLSN(a, b string) bool {
	pa, pb := parseLSN(a), parseLSN(b)
	return pa == pb && pa != ^uint64(0)
}

func parseLSN(s string) uint64 {
	hi, lo, ok := strings.Cut(s, "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return ^uint64(0)
	}
	return h<<32 | l
}

// withoutPinned drops the duplicates that are a pinned replay of node.
func withoutPinned(node string, dups []DuplicateApply, names map[int]string, pinned []PinnedReplay) (kept []DuplicateApply, harness int) {
	for _, d := range dups {
		if slices.ContainsFunc(pinned, func(p PinnedReplay) bool {
			return p.Node == node && p.Origin == names[d.Origin] && sameLSN(p.LSN, d.OriginLSN)
		}) {
			harness += len(d.Commits)
			continue
		}
		kept = append(kept, d)
	}
	return kept, harness
}

// DuplicatesShown bounds the duplicates a node keeps in the capture (the
// summary names three); the count is always whole. Explain judges only a
// whole list, so the bound is well above what a run has shown (30).
const DuplicatesShown = 2000

// WALNodeCapture is what the checker read from one node's WAL.
type WALNodeCapture struct {
	Node string `json:"node"`
	// FirstSegment is the oldest WAL segment read, Stop pg_waldump's last
	// line (the end of the WAL it could read).
	FirstSegment string `json:"first_segment"`
	Stop         string `json:"stop,omitempty"`
	// Commits counts the commit records with an origin that wrote data
	// (AppliedData), Bookkeeping those that wrote only the replication
	// system's own tables; Duplicated the
	// remote transactions committed more than once (Duplicates holds at
	// most DuplicatesShown of them).
	Commits     int `json:"commits"`
	Bookkeeping int `json:"bookkeeping,omitempty"`
	// HarnessReplays counts the commits of the harness's pinned replays
	// (PinnedReplay), which share one origin LSN by design.
	HarnessReplays int              `json:"harness_replays,omitempty"`
	Duplicated     int              `json:"duplicated"`
	Duplicates     []DuplicateApply `json:"duplicates,omitempty"`
	// Error is why this node's WAL could not be read ("" when it was).
	Error string `json:"error,omitempty"`
}

// WALCapture is the double-apply checker's capture of the survivors,
// stored with the observation so that `spockchaos check` re-judges it.
type WALCapture struct {
	// NotApplicable says why the checker does not apply ("" when it does).
	NotApplicable string           `json:"not_applicable,omitempty"`
	Nodes         []WALNodeCapture `json:"nodes,omitempty"`
}

// CaptureWALNode turns one node's parsed commits into its capture;
// names maps origin ids to what to call them (node or origin name), own
// holds the replication system's own relfilenodes (AppliedData), pinned
// the harness's own replays (PinnedReplay).
func CaptureWALNode(node, firstSegment, stop string, commits []WALCommit, names map[int]string, own map[uint32]bool, pinned []PinnedReplay) WALNodeCapture {
	data := AppliedData(commits, own)
	dups, harness := withoutPinned(node, FindDuplicateApplies(node, data), names, pinned)
	c := WALNodeCapture{Node: node, FirstSegment: firstSegment, Stop: stop, Commits: len(data), Bookkeeping: len(commits) - len(data),
		HarnessReplays: harness, Duplicated: len(dups)}
	if len(dups) > DuplicatesShown {
		dups = dups[:DuplicatesShown]
	}
	for i := range dups {
		dups[i].OriginName = names[dups[i].Origin]
	}
	c.Duplicates = dups
	return c
}

// JudgeDoubleApply decides from the capture: fail when any node committed
// a remote transaction twice (naming node, origin, origin LSN and the
// local commits), unknown when a node's WAL could not be read, skipped
// when the checker does not apply, else pass.
func JudgeDoubleApply(c *WALCapture) CheckResult {
	res := CheckResult{Name: DoubleApplyCheckName, Details: c}
	switch {
	case c == nil:
		res.Verdict, res.Summary = Unknown, "no WAL capture"
		return res
	case c.NotApplicable != "":
		res.Verdict, res.Summary = Skipped, "not applicable: "+c.NotApplicable
		return res
	case len(c.Nodes) == 0:
		res.Verdict, res.Summary = Unknown, "no node's WAL was read"
		return res
	}
	var fails, errs, counts []string
	for _, n := range c.Nodes {
		if n.Error != "" {
			errs = append(errs, n.Node+": "+n.Error)
			continue
		}
		counts = append(counts, fmt.Sprintf("%s %d", n.Node, n.Commits))
		if n.Duplicated > 0 {
			fails = append(fails, describeDuplicates(n))
		}
	}
	sort.Strings(fails)
	switch {
	case len(fails) > 0:
		res.Verdict = Fail
		res.Summary = "remote transactions applied twice: " + strings.Join(fails, "; ")
	case len(errs) > 0:
		res.Verdict, res.Summary = Unknown, "could not read the WAL of "+strings.Join(errs, "; ")
	default:
		res.Verdict = Pass
		res.Summary = "every remote transaction committed once (commits with an origin in the WAL on disk: " + strings.Join(counts, ", ") + ")"
	}
	return res
}

// describeDuplicates names a node's first duplicates.
func describeDuplicates(n WALNodeCapture) string {
	parts := make([]string, 0, 3)
	for i, d := range n.Duplicates {
		if i == 3 {
			break
		}
		locals := make([]string, len(d.Commits))
		for j, c := range d.Commits {
			locals[j] = fmt.Sprintf("xid %d at %s", c.XID, c.LSN)
			if c.At != "" {
				locals[j] += ", " + c.At
			}
		}
		name := strconv.Itoa(d.Origin)
		if d.OriginName != "" {
			name += " (" + d.OriginName + ")"
		}
		parts = append(parts, fmt.Sprintf("origin %s lsn %s committed %d times (%s)", name, d.OriginLSN, len(d.Commits), strings.Join(locals, ", ")))
	}
	more := ""
	if n.Duplicated > len(parts) {
		more = fmt.Sprintf(" and %d more", n.Duplicated-len(parts))
	}
	return fmt.Sprintf("%s: %d of its %d commits with an origin: %s%s", n.Node, n.Duplicated, n.Commits, strings.Join(parts, ", "), more)
}
