package fault

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/spockchaos/spockchaos/harness"
)

// A SIGKILL goes straight to the container's init process (kill(2)
// from this host; the kernel then ends every process of the
// container, the engine records exit code 137) when the engine runs
// on this host and the process's cgroup names the container, checked
// again right before the signal. The engine's own kill took 95-120 ms
// here, too slow to land inside a COMMIT. Otherwise (a remote engine,
// no permission) the kill goes through the engine. The effect event
// records which: signal_via "host" or "engine".

// hostProcess is a node container's init process as this host sees it,
// resolved ahead of a kill so that the kill itself is one syscall.
//
// Why: the engine's kill (ContainerKill with SIGKILL) took 95-120 ms here
// even on an idle machine, longer than the 100 ms a COMMIT can be held
// open with commit_delay, so a kill meant to land mid-COMMIT often landed
// after it. SIGKILL to the container's init process ends the container
// the same way (when a PID namespace's init dies, the kernel kills every
// process in it; the engine records exit code 137) within microseconds.
// It is only used when the engine runs on this host: the process's cgroup
// must name the container, checked again right before the signal, so a
// remote engine's PID or a PID reused after the container died is never
// signalled. Anything else (no permission, another host) falls back to
// the engine's kill.
type hostProcess struct {
	pid         int
	containerID string
}

// resolveHostProcess finds n's container init process on this host, or
// returns nil when it is not visible here.
func resolveHostProcess(ctx context.Context, n *harness.Node) *hostProcess {
	st, err := n.Container.State(ctx)
	if err != nil || !st.Running || st.Pid <= 0 {
		return nil
	}
	p := &hostProcess{pid: st.Pid, containerID: containerID(n)}
	if !p.stillTheContainer() {
		return nil
	}
	return p
}

func (p *hostProcess) stillTheContainer() bool {
	cgroup, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.pid))
	return err == nil && cgroupNamesContainer(string(cgroup), p.containerID)
}

// kill sends SIGKILL; false when the process is no longer the container's
// or the signal was refused (the caller then uses the engine).
func (p *hostProcess) kill() bool {
	if p == nil || !p.stillTheContainer() {
		return false
	}
	return syscall.Kill(p.pid, syscall.SIGKILL) == nil
}

// cgroupNamesContainer reports whether a /proc/<pid>/cgroup file places
// the process in the container's cgroup: cgroup v1 ("…:/docker/<id>") or
// v2 ("0::/system.slice/docker-<id>.scope"). A full 64-hex ID is required,
// so a short or empty one never matches.
func cgroupNamesContainer(cgroup, id string) bool {
	if len(id) != 64 {
		return false
	}
	for line := range strings.SplitSeq(cgroup, "\n") {
		_, path, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if _, path, ok = strings.Cut(path, ":"); ok && strings.Contains(path, id) {
			return true
		}
	}
	return false
}
