package workload_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// deadDSN is a DSN whose port refuses connections (a dead node).
func deadDSN() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	ln.Close()
	return "postgres://u:p@" + addr + "/db?sslmode=disable&connect_timeout=1"
}

var _ = Describe("the client runner", func() {
	var live *fakeServer
	BeforeEach(func() {
		live = startFakeServer(func(be *pgproto3.Backend, _ net.Conn, _ string) bool { return answer(be, "SELECT 1", 'I') })
	})

	It("issues exactly OpCount ops over all clients", func(ctx SpecContext) {
		var mu sync.Mutex
		per := map[string]int{}
		stats, err := workload.RunStepsForTest(ctx, workload.RunConfig{
			Nodes:    []workload.Target{{Name: "n1", DSN: live.dsn()}, {Name: "n2", DSN: live.dsn()}},
			Recorder: history.NewRecorder(&bytes.Buffer{}), ClientsPerNode: 3, OpCount: 500,
		}, func(process, _ string) { mu.Lock(); per[process]++; mu.Unlock() })
		Expect(err).NotTo(HaveOccurred())
		Expect(stats.Ok).To(BeNumerically("==", 500))
		total := 0
		for process, n := range per {
			Expect([]string{"n1-c0", "n1-c1", "n1-c2", "n2-c0", "n2-c1", "n2-c2"}).To(ContainElement(process))
			total += n
		}
		Expect(total).To(Equal(500))
		Expect(stats.PerNode["n1"].Ok + stats.PerNode["n2"].Ok).To(BeNumerically("==", 500))
	}, SpecTimeout(30*time.Second))

	It("keeps going when a node is dead: its clients give up, the others run", func(ctx SpecContext) {
		stats, err := workload.RunStepsForTest(ctx, workload.RunConfig{
			Nodes:    []workload.Target{{Name: "n1", DSN: live.dsn()}, {Name: "n2", DSN: deadDSN()}},
			Recorder: history.NewRecorder(&bytes.Buffer{}), ClientsPerNode: 2, Duration: time.Second,
			Reconnect: 200 * time.Millisecond,
		}, func(string, string) { time.Sleep(time.Millisecond) })
		Expect(err).NotTo(HaveOccurred())
		Expect(stats.ClientsGaveUp).To(Equal(2))
		Expect(stats.PerNode["n2"].Ops()).To(BeZero())
		Expect(stats.PerNode["n1"].Ok).To(BeNumerically(">", 10))
	}, SpecTimeout(30*time.Second))

	It("reconnects to the address a restarted node has now (Target.DSNNow), and gives up without it", func(ctx SpecContext) {
		dead, start := deadDSN(), time.Now()
		restarted := func() string {
			if time.Since(start) < 300*time.Millisecond {
				return dead // down, then back on another port
			}
			return live.dsn()
		}
		run := func(t workload.Target) workload.Stats {
			stats, err := workload.RunStepsForTest(ctx, workload.RunConfig{
				Nodes: []workload.Target{t}, Recorder: history.NewRecorder(&bytes.Buffer{}), ClientsPerNode: 1,
				Duration: time.Second, Reconnect: 700 * time.Millisecond,
			}, func(string, string) { time.Sleep(time.Millisecond) })
			Expect(err).NotTo(HaveOccurred())
			return stats
		}
		stats := run(workload.Target{Name: "n1", DSN: dead, DSNNow: restarted})
		Expect(stats.ClientsGaveUp).To(BeZero())
		Expect(stats.PerNode["n1"].Ok).To(BeNumerically(">", 10))
		stats = run(workload.Target{Name: "n1", DSN: dead})
		Expect(stats.ClientsGaveUp).To(Equal(1))
	}, SpecTimeout(30*time.Second))

	It("moves the clients of a dead node to a live one with Failover", func(ctx SpecContext) {
		var mu sync.Mutex
		nodesOf := map[string]map[string]bool{}
		stats, err := workload.RunStepsForTest(ctx, workload.RunConfig{
			Nodes:    []workload.Target{{Name: "n1", DSN: deadDSN()}, {Name: "n2", DSN: live.dsn()}},
			Recorder: history.NewRecorder(&bytes.Buffer{}), ClientsPerNode: 1, Duration: time.Second,
			Reconnect: 200 * time.Millisecond, Failover: true,
		}, func(process, node string) {
			mu.Lock()
			defer mu.Unlock()
			if nodesOf[process] == nil {
				nodesOf[process] = map[string]bool{}
			}
			nodesOf[process][node] = true
			time.Sleep(time.Millisecond)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(stats.ClientsGaveUp).To(BeZero())
		Expect(nodesOf).To(HaveKeyWithValue("n1-c0", map[string]bool{"n2": true}))
	}, SpecTimeout(30*time.Second))

	It("gives a node that joins mid-load clients of its own (Joined), and none without it", func(ctx SpecContext) {
		run := func(joined chan workload.Target) (workload.Stats, map[string]bool) {
			var mu sync.Mutex
			processes := map[string]bool{}
			if joined != nil {
				time.AfterFunc(300*time.Millisecond, func() { joined <- workload.Target{Name: "n2", DSN: live.dsn()} })
			}
			stats, err := workload.RunStepsForTest(ctx, workload.RunConfig{
				Nodes:    []workload.Target{{Name: "n1", DSN: live.dsn()}},
				Recorder: history.NewRecorder(&bytes.Buffer{}), ClientsPerNode: 2, Duration: time.Second, Joined: joined,
			}, func(process, node string) {
				mu.Lock()
				processes[process+"@"+node] = true
				mu.Unlock()
				time.Sleep(time.Millisecond)
			})
			Expect(err).NotTo(HaveOccurred())
			return stats, processes
		}
		stats, processes := run(make(chan workload.Target, 1))
		Expect(processes).To(Equal(map[string]bool{"n1-c0@n1": true, "n1-c1@n1": true, "n2-c0@n2": true, "n2-c1@n2": true}))
		Expect(stats.PerNode["n2"].Ok).To(BeNumerically(">", 10))
		Expect(stats.PerNode["n2"].Ok).To(BeNumerically("<", stats.PerNode["n1"].Ok), "n2's clients started late")
		// Control: the same run with no Joined channel never writes on n2.
		stats, processes = run(nil)
		Expect(processes).To(HaveLen(2))
		Expect(stats.PerNode).NotTo(HaveKey("n2"))
	}, SpecTimeout(30*time.Second))

	It("stops on cancellation without an error", func(ctx SpecContext) {
		runCtx, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		stats, err := workload.RunStepsForTest(runCtx, workload.RunConfig{
			Nodes:    []workload.Target{{Name: "n1", DSN: live.dsn()}},
			Recorder: history.NewRecorder(&bytes.Buffer{}),
		}, func(string, string) { time.Sleep(time.Millisecond) })
		Expect(err).NotTo(HaveOccurred())
		Expect(stats.Ok).To(BeNumerically(">", 0))
	}, SpecTimeout(30*time.Second))

	It("refuses a run without nodes or recorder", func(ctx SpecContext) {
		_, err := (&workload.Ledger{}).Run(ctx, workload.RunConfig{})
		Expect(err).To(MatchError(ContainSubstring("no nodes")))
		_, err = (&workload.Ledger{}).Run(ctx, workload.RunConfig{Nodes: []workload.Target{{Name: "n1"}}})
		Expect(err).To(MatchError(ContainSubstring("no history recorder")))
	})
})
