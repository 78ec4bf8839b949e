package harness

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Owner identifies the process that started a run, as its labels record
// it: enough to tell, later and from another process, whether that very
// process still runs. A pid alone is not: pids are reused, and a pid of
// another pid namespace (a harness inside a container sharing the engine)
// means nothing here.
type Owner struct {
	Host string // hostname
	// PIDNamespace is /proc/self/ns/pid's link, e.g. "pid:[4026531836]".
	PIDNamespace string
	PID          int
	// Start is the process's start time in clock ticks since boot
	// (/proc/<pid>/stat field 22): a reused pid has another.
	Start string
}

// Liveness of a run's owner as Clean sees it.
const (
	OwnerDead    = "dead"
	OwnerAlive   = "alive"
	OwnerUnknown = "unknown" // another host or pid namespace: cannot tell, so alive
)

// CurrentOwner is this process as an Owner.
func CurrentOwner() Owner { return self() }

// self is this process as an Owner.
func self() Owner {
	host, _ := os.Hostname()
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return Owner{Host: host, PIDNamespace: ns, PID: os.Getpid(), Start: processStart(os.Getpid())}
}

// processStart is field 22 of /proc/<pid>/stat ("" if unreadable). The
// command name (field 2) is in parentheses and may hold spaces, so fields
// are counted after its closing parenthesis.
func processStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:]) // field 3 onwards
	if len(fields) < 20 {
		return ""
	}
	return fields[19] // field 22
}

// Liveness says whether the owner still runs: dead only when it is
// certain (same host and pid namespace, and the pid is gone or is another
// process now); unknown when this process cannot tell.
func (o Owner) Liveness() string {
	me := self()
	if o.Host != me.Host || o.PID <= 0 {
		return OwnerUnknown
	}
	// Runs labelled before the namespace was recorded: same host is all
	// there is, as before.
	if o.PIDNamespace != "" && o.PIDNamespace != me.PIDNamespace {
		return OwnerUnknown
	}
	err := syscall.Kill(o.PID, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return OwnerDead
	}
	if o.Start != "" {
		if now := processStart(o.PID); now != "" && now != o.Start {
			return OwnerDead // the pid was reused
		}
	}
	return OwnerAlive
}

func (o Owner) labels() map[string]string {
	return map[string]string{
		LabelOwnerPID:   strconv.Itoa(o.PID),
		LabelHost:       o.Host,
		LabelOwnerNS:    o.PIDNamespace,
		LabelOwnerStart: o.Start,
	}
}

func ownerFromLabels(l map[string]string) Owner {
	pid, _ := strconv.Atoi(l[LabelOwnerPID])
	return Owner{Host: l[LabelHost], PIDNamespace: l[LabelOwnerNS], PID: pid, Start: l[LabelOwnerStart]}
}
