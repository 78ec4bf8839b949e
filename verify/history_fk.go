package verify

import (
	"fmt"
	"strings"
)

// ForeignKeyCheckName is the foreign-key checker's name.
const ForeignKeyCheckName = "foreign-key"

// checkForeignKey judges fk_parent and fk_child: no survivor holds a
// child whose parent it lacks (replication applies rows with the
// referential triggers off, so nothing but the writers' order keeps a
// child from outliving its parent), and the survivors hold the same
// parents and children. Orphans are named by child id, parent and node.
func checkForeignKey(in historyInput) CheckResult {
	n := countOps(in.ops, "fk-")
	if n == 0 {
		return notApplicable("fk-parent, fk-child, fk-delete or fk-delete-family")
	}
	rows := held{}
	var orphans []string
	for _, node := range in.survivors {
		so := in.schemaOf(node)
		if so == nil || so.FKParents == nil || so.FKChildren == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s lacks fk_parent or fk_child", node)}
		}
		parents := map[int]bool{}
		for _, id := range so.FKParents {
			parents[id] = true
			rows.put(fmt.Sprintf("parent %d", id), node, "(held)")
		}
		for _, c := range so.FKChildren {
			if !parents[c.Parent] {
				orphans = append(orphans, fmt.Sprintf("child %d on %s: parent %d missing (child by %s)", c.ID, node, c.Parent, c.Writer))
			}
			rows.put(fmt.Sprintf("child %d", c.ID), node, fmt.Sprintf("(parent %d by %s)", c.Parent, c.Writer))
		}
	}
	pass := fmt.Sprintf("%d fk_parent and fk_child rows alike on %s after %d ops, no child without its parent",
		len(rows), strings.Join(in.survivors, ", "), n)
	return featureVerdict(pass, rows.disagreements(in.survivors), orphans, "orphaned children")
}
