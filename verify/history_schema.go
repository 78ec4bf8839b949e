package verify

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Names of the schema-features checkers (workload SchemaFeatures).
const (
	GeneratedCheckName   = "generated-columns"
	PartitionedCheckName = "partitioned"
)

// held is one table's rows on the survivors: row key -> node -> the
// row's rendering.
type held map[string]map[string]string

func (h held) put(key, node, row string) {
	if h[key] == nil {
		h[key] = map[string]string{}
	}
	h[key][node] = row
}

// disagreements names every key whose row differs among the survivors
// (a node without it "none"), each node's version in the line.
func (h held) disagreements(survivors []string) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(h)) {
		rows := h[key]
		same := len(rows) == len(survivors)
		var parts []string
		for _, n := range survivors {
			r, ok := rows[n]
			same = same && r == rows[survivors[0]]
			if !ok {
				r = "none"
			}
			parts = append(parts, n+" "+r)
		}
		if !same {
			out = append(out, key+": "+strings.Join(parts, ", "))
		}
	}
	return out
}

// schemaOf is a survivor's schema-features tables (nil: none).
func (in historyInput) schemaOf(node string) *SchemaObservation {
	return in.obs.PerNode[node].Schema
}

// countOps counts the ops whose name starts with prefix.
func countOps(ops []clientOp, prefix string) int {
	n := 0
	for _, op := range ops {
		if strings.HasPrefix(op.invoke.F, prefix) {
			n++
		}
	}
	return n
}

// featureVerdict is a schema-features checker's result: Pass with pass
// when nothing is wrong, else Fail counting and naming the differing keys
// and the violations (what says what they are; Details lists up to
// maxListed of each).
func featureVerdict(pass string, diffs, bad []string, what string) CheckResult {
	if len(diffs) == 0 && len(bad) == 0 {
		return CheckResult{Verdict: Pass, Summary: pass}
	}
	var parts []string
	if len(diffs) > 0 {
		parts = append(parts, fmt.Sprintf("%d keys differ among the survivors: %s", len(diffs), strings.Join(diffs[:min(3, len(diffs))], "; ")))
	}
	if len(bad) > 0 {
		parts = append(parts, fmt.Sprintf("%d %s: %s", len(bad), what, strings.Join(bad[:min(3, len(bad))], "; ")))
	}
	return CheckResult{Verdict: Fail, Summary: strings.Join(parts, "; "),
		Details: map[string]any{"differing": diffs[:min(maxListed, len(diffs))], what: bad[:min(maxListed, len(bad))]}}
}

// GenExpected is what gen_kv's generated columns hold for a and b:
// g = a*31 + length(b), h = md5(b || ':' || a).
func GenExpected(a int64, b string) (int64, string) {
	sum := md5.Sum([]byte(b + ":" + strconv.FormatInt(a, 10)))
	return a*31 + int64(utf8.RuneCountInString(b)), hex.EncodeToString(sum[:])
}

// checkGenerated judges gen_kv: on every survivor each row's generated g
// and h are what its a and b give, and the survivors hold the same rows,
// generated columns included. Violations name the key and node.
func checkGenerated(in historyInput) CheckResult {
	n := countOps(in.ops, "gen-")
	if n == 0 {
		return notApplicable("gen-set, gen-add or gen-delete")
	}
	rows := held{}
	var bad []string
	for _, node := range in.survivors {
		so := in.schemaOf(node)
		if so == nil || so.Gen == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no gen_kv table", node)}
		}
		for _, r := range so.Gen {
			if g, h := GenExpected(r.A, r.B); r.G != g || r.H != h {
				bad = append(bad, fmt.Sprintf("k=%d on %s: g=%d h=%s, but a=%d b=%q give g=%d h=%s", r.K, node, r.G, r.H, r.A, r.B, g, h))
			}
			rows.put(fmt.Sprintf("k=%d", r.K), node, fmt.Sprintf("(a=%d b=%q g=%d h=%.8s by %s)", r.A, r.B, r.G, r.H, r.Writer))
		}
	}
	pass := fmt.Sprintf("%d gen_kv rows alike on %s after %d ops, each one's generated g and h what its a and b give",
		len(rows), strings.Join(in.survivors, ", "), n)
	return featureVerdict(pass, rows.disagreements(in.survivors), bad, "rows whose generated columns differ from their base columns")
}

// PartitionOf is the part_kv partition that must hold a row with
// partition key p ("" when no partition takes p).
func PartitionOf(p int) string {
	const partRange, partCount = 100, 3 // workload.PartRange, workload.PartCount
	if p < 0 || p >= partRange*partCount {
		return ""
	}
	return fmt.Sprintf("part_kv_%d", p/partRange)
}

// checkPartitioned judges part_kv: on every survivor each row lives in
// the partition its p says, and the survivors hold the same rows (read
// through the parent), partition included.
func checkPartitioned(in historyInput) CheckResult {
	n := countOps(in.ops, "part-")
	if n == 0 {
		return notApplicable("part-move, part-update, part-insert or part-delete")
	}
	rows := held{}
	var bad []string
	for _, node := range in.survivors {
		so := in.schemaOf(node)
		if so == nil || so.Part == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no part_kv table", node)}
		}
		for _, r := range so.Part {
			if want := PartitionOf(r.P); r.Partition != want {
				bad = append(bad, fmt.Sprintf("k=%d p=%d on %s: in %s, its key says %q", r.K, r.P, node, r.Partition, want))
			}
			rows.put(fmt.Sprintf("k=%d p=%d", r.K, r.P), node, fmt.Sprintf("(v=%d by %s in %s)", r.V, r.Writer, r.Partition))
		}
	}
	pass := fmt.Sprintf("%d part_kv rows alike on %s after %d ops, each in the partition its key says",
		len(rows), strings.Join(in.survivors, ", "), n)
	return featureVerdict(pass, rows.disagreements(in.survivors), bad, "rows in the wrong partition")
}
