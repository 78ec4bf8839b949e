package harness

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Labels put on every container and network of a run.
const (
	LabelRun      = "spockchaos.run"   // the run id
	LabelNode     = "spockchaos.node"  // n1..nN (containers only)
	LabelOwnerPID = "spockchaos.owner" // pid of the process that started the run
	LabelHost     = "spockchaos.host"  // hostname of that process
	// LabelOwnerNS and LabelOwnerStart make the pid certain (Owner).
	LabelOwnerNS    = "spockchaos.owner-pidns" // its pid namespace
	LabelOwnerStart = "spockchaos.owner-start" // its start time, clock ticks since boot
	LabelDetached   = "spockchaos.detached"    // "true": meant to outlive its owner
	LabelFlavor     = "spockchaos.flavor"      // the replication flavor's name
)

// NewRunID returns a sortable, unique run id: UTC time plus random hex.
func NewRunID() string {
	return time.Now().UTC().Format("20060102t150405") + "-" + randomHex(3)
}

// randomPassword is alphanumeric (the node entrypoint refuses anything else).
func randomPassword() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
	}
	return hex.EncodeToString(b)
}

func runLabels(runID, flavor string, detached bool) map[string]string {
	l := self().labels()
	l[LabelRun] = runID
	l[LabelDetached] = fmt.Sprint(detached)
	l[LabelFlavor] = flavor
	return l
}
