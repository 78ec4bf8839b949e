package scenarios

import (
	"fmt"
	"slices"
)

// Which faults may be in force together. A later fault is injected and
// its effect checked while the earlier ones of its group are in force, so
// the rules are ordered (earlier, later); heal checks run after every heal
// action of the group (group.go), so they need no rule. The rules go by
// family of kind and by the nodes and links each step touches.

// Families of held kinds, for the overlap rules. A kind missing here may
// not overlap anything (a new kind joins once its checks are thought
// through against each family).
const (
	famHalt      = "halt"      // pause, crash-restart: the node answers nothing
	famPartition = "partition" // blackhole routes and markers on every node it cuts
	famWorker    = "worker"    // one replication process of the link Peer -> Node
	famClock     = "clock"     // a node's clock, proven by stamps of markers both ways
	famLink      = "link"      // link faults, proven by marker arrival across links
)

var overlapFamilies = map[string]string{
	StepPause: famHalt, StepRestart: famHalt,
	StepPartition:     famPartition,
	StepKillWalsender: famWorker, StepKillApply: famWorker, StepStopApply: famWorker,
	StepClockSkew:   famClock,
	StepLinkLatency: famLink, StepLinkBandwidth: famLink, StepLinkReset: famLink, StepLinkLoss: famLink,
}

// multiNodeKinds may name several nodes (Step.Nodes).
var multiNodeKinds = []string{StepPause, StepRestart, StepPartition}

// scope is what a step touches.
type scope struct {
	kind  string
	nodes []string    // every node it acts on or queries
	cut   [][2]string // partition: the pairs it cuts
}

func scopeOf(s Step, all []string) scope {
	sc := scope{kind: s.Kind, nodes: stepNodes(s)}
	switch {
	case s.Kind == StepPartition && len(s.Nodes) == 0:
		sc.nodes = all
		for _, n := range all {
			if n != s.Node {
				sc.cut = append(sc.cut, [2]string{s.Node, n})
			}
		}
	case s.Kind == StepPartition:
		sc.cut = nodePairs(s.Nodes)
	case s.Peer != "":
		sc.nodes = append(sc.nodes, s.Peer)
	}
	return sc
}

// overlapRule says why a later step may not start while an earlier one
// is in force ("" when it may).
type overlapRule func(e, l Step, es, ls scope) string

// overlapRules holds one rule per ordered pair of families (earlier,
// later); a pair missing here is refused.
var overlapRules = map[[2]string]overlapRule{
	{famHalt, famHalt}:           disjointNodes,
	{famHalt, famPartition}:      disjointNodes, // routes and markers on every node it cuts
	{famHalt, famWorker}:         disjointNodes, // the worker's two ends must answer
	{famPartition, famHalt}:      noRestartOf,   // a pause is thawed before the routes go
	{famPartition, famWorker}:    workerLinkUncut,
	{famWorker, famHalt}:         noRestartOfFrozen,
	{famWorker, famPartition}:    allowed, // a cut link keeps markers off its own
	{famWorker, famWorker}:       distinctWorkers,
	{famClock, famHalt}:          noRestartOf,
	{famClock, famPartition}:     allowed,
	{famClock, famWorker}:        allowed,
	{famPartition, famPartition}: refuse("both set blackhole routes between the same nodes (one partition step with Nodes cuts several pairs)"),
}

// overlapRefusal says why later may not start while earlier is in force,
// on a plan of the nodes all ("" when it may).
func overlapRefusal(earlier, later Step, all []string) string {
	ef, lf := overlapFamilies[earlier.Kind], overlapFamilies[later.Kind]
	switch {
	case ef == "" || lf == "":
		return fmt.Sprintf("%s and %s: a kind without an overlap rule may not overlap", earlier.Kind, later.Kind)
	case ef == famLink || lf == famLink:
		return "a link fault's check compares marker arrival across links, which another fault in force skews"
	case lf == famClock:
		return "clock-skew's check sends markers between the node and its peers: it may only come first in a group"
	}
	rule, ok := overlapRules[[2]string{ef, lf}]
	if !ok {
		return fmt.Sprintf("%s while %s is in force has no overlap rule", later.Kind, earlier.Kind)
	}
	return rule(earlier, later, scopeOf(earlier, all), scopeOf(later, all))
}

func allowed(Step, Step, scope, scope) string { return "" }

func refuse(why string) overlapRule {
	return func(Step, Step, scope, scope) string { return why }
}

// disjointNodes: the later step needs every node it touches to answer.
func disjointNodes(e, _ Step, es, ls scope) string {
	for _, n := range ls.nodes {
		if slices.Contains(stepNodes(e), n) {
			return fmt.Sprintf("%s needs %s to answer, which %s stops", ls.kind, n, e.Kind)
		}
	}
	return ""
}

// noRestartOf: a crash-restart of a node the earlier step acts on loses
// what that step set inside the node (routes, the clock's offset file).
func noRestartOf(_, l Step, es, ls scope) string {
	if l.Kind != StepRestart {
		return ""
	}
	for _, n := range ls.nodes {
		if slices.Contains(es.nodes, n) {
			return fmt.Sprintf("restarting %s drops what %s set in it, and its heal would then fail", n, es.kind)
		}
	}
	return ""
}

// noRestartOfFrozen: a frozen apply worker's subscriber must not restart
// (the pid the heal thaws would be gone).
func noRestartOfFrozen(e, l Step, _, ls scope) string {
	if e.Kind == StepStopApply && l.Kind == StepRestart && slices.Contains(ls.nodes, e.Node) {
		return fmt.Sprintf("restarting %s ends the apply worker that stop-apply froze, which its heal thaws", e.Node)
	}
	return ""
}

// workerLinkUncut: the worker's link must not be cut; stop-apply's marker
// from the provider must also reach every other node.
func workerLinkUncut(_, l Step, es, _ scope) string {
	for _, c := range es.cut {
		if samePair(c, [2]string{l.Node, l.Peer}) {
			return fmt.Sprintf("the link %s -> %s is cut: %s has nothing to act on", l.Peer, l.Node, l.Kind)
		}
		if l.Kind == StepStopApply && slices.Contains(c[:], l.Peer) {
			return fmt.Sprintf("stop-apply's marker from %s must reach every other node, and %s is cut from %s", l.Peer, c[0], c[1])
		}
	}
	return ""
}

// distinctWorkers: not the same link; a later stop-apply's marker from its
// provider must not depend on a link of that provider held by the earlier.
func distinctWorkers(e, l Step, _, _ scope) string {
	if e.Node == l.Node && e.Peer == l.Peer {
		return fmt.Sprintf("both act on the link %s -> %s", l.Peer, l.Node)
	}
	if l.Kind == StepStopApply && e.Peer == l.Peer {
		return fmt.Sprintf("stop-apply's marker from %s must reach %s, whose link from it %s holds", l.Peer, e.Node, e.Kind)
	}
	return ""
}

func samePair(a, b [2]string) bool {
	return a == b || (a[0] == b[1] && a[1] == b[0])
}

// stepNodes are the nodes a step acts on: Nodes, or Node.
func stepNodes(s Step) []string {
	if len(s.Nodes) > 0 {
		return s.Nodes
	}
	return []string{s.Node}
}

// nodePairs is every pair among nodes, in order.
func nodePairs(nodes []string) [][2]string {
	var out [][2]string
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			out = append(out, [2]string{a, b})
		}
	}
	return out
}

// stepGroups splits steps into groups: a step and the Overlap steps
// right after it.
func stepGroups(steps []Step) [][]Step {
	var out [][]Step
	for _, s := range steps {
		if s.Overlap && len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], s)
			continue
		}
		out = append(out, []Step{s})
	}
	return out
}

// Regroup clears Overlap where it has no group to join (the first step,
// or after a kind that cannot be held in one): what is left when steps
// are dropped from a valid plan (shrink).
func Regroup(steps []Step) []Step {
	out := slices.Clone(steps)
	for i := range out {
		if out[i].Overlap && (i == 0 || overlapFamilies[out[i-1].Kind] == "") {
			out[i].Overlap = false
		}
	}
	return out
}
