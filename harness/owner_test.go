package harness_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

var _ = Describe("a run's owner, as clean judges it", func() {
	It("is alive while its process runs, dead once it exited or its pid names another process", func() {
		sleeper := exec.Command("sleep", "30")
		Expect(sleeper.Start()).To(Succeed())
		DeferCleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
		me := harness.CurrentOwner()
		Expect(me.Start).NotTo(BeEmpty(), "no start time read from /proc")

		// The sleeper as the run's owner: same host and namespace as us.
		owner := me
		owner.PID = sleeper.Process.Pid
		owner.Start = ""
		Expect(owner.Liveness()).To(Equal(harness.OwnerAlive))

		// The same pid with another start time is a reused pid.
		owner.Start = "1"
		Expect(owner.Liveness()).To(Equal(harness.OwnerDead))

		Expect(sleeper.Process.Kill()).To(Succeed())
		_ = sleeper.Wait()
		owner.Start = ""
		Expect(owner.Liveness()).To(Equal(harness.OwnerDead))
	})

	It("cannot be judged from another host or pid namespace, so it counts as alive", func() {
		gone := harness.CurrentOwner()
		gone.PID = 1 << 22 // above pid_max's default: no such process
		Expect(gone.Liveness()).To(Equal(harness.OwnerDead))
		other := gone
		other.Host = gone.Host + "-elsewhere"
		Expect(other.Liveness()).To(Equal(harness.OwnerUnknown))
		other = gone
		other.PIDNamespace = "pid:[1]"
		Expect(other.Liveness()).To(Equal(harness.OwnerUnknown))
		Expect(harness.RunInfo{Owner: other}.OwnerAlive()).To(BeTrue())
		Expect(harness.RunInfo{Owner: gone}.OwnerAlive()).To(BeFalse())
	})
})

// Networks alone stand in for runs here: clean judges them by the same
// labels, and no node needs to start.
var _ = Describe("spockchaos clean on labelled leftovers", Label("e2e"), func() {
	It("removes a dead run, and keeps a detached one and one whose process lives, naming why", func(ctx SpecContext) {
		me := harness.CurrentOwner()
		dead := fmt.Sprintf("cleanspec-%d-dead", time.Now().UnixNano())
		detached := strings.Replace(dead, "dead", "detached", 1)
		live := strings.Replace(dead, "dead", "live", 1)
		for _, r := range []struct {
			id, pid, start, detached string
		}{
			{dead, "4194304", "", "false"},
			{detached, "4194304", "", "true"},
			{live, fmt.Sprint(me.PID), me.Start, "false"},
		} {
			out, err := exec.CommandContext(ctx, "docker", "network", "create",
				"--label", harness.LabelRun+"="+r.id, "--label", harness.LabelOwnerPID+"="+r.pid,
				"--label", harness.LabelHost+"="+me.Host, "--label", harness.LabelOwnerNS+"="+me.PIDNamespace,
				"--label", harness.LabelOwnerStart+"="+r.start, "--label", harness.LabelDetached+"="+r.detached, r.id).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			DeferCleanup(func(ctx context.Context) { _, _ = harness.RemoveRun(ctx, r.id) })
		}

		removed, err := harness.Clean(ctx, dead, detached, live)
		Expect(removed).To(Equal([]string{dead}))
		Expect(err).To(MatchError(ContainSubstring("clean " + detached + ": kept: started with --detach")))
		Expect(err).To(MatchError(ContainSubstring(fmt.Sprintf("clean %s: kept: its process %d still runs", live, me.PID))))
		runs, err := harness.ListRuns(ctx)
		Expect(err).NotTo(HaveOccurred())
		ids := map[string]bool{}
		for _, r := range runs {
			ids[r.RunID] = true
		}
		Expect(ids).NotTo(HaveKey(dead))
		Expect(ids).To(HaveKey(detached))
		Expect(ids).To(HaveKey(live))
	}, SpecTimeout(time.Minute))
})
