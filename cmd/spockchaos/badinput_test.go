package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
)

// seedRun is a small real run directory (kept for the fuzz seeds).
var seedRun = filepath.Join("..", "..", "reports", "testdata", "seedrun")

// runDir copies seedRun into a new folder and applies damage to its files
// (name -> new content; nil removes the file).
func runDir(damage map[string][]byte) string {
	dir := GinkgoT().TempDir()
	for _, name := range []string{"run.json", "history.jsonl", "observation.json"} {
		b, err := os.ReadFile(filepath.Join(seedRun, name))
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, name), b, 0o644)).To(Succeed())
	}
	for name, b := range damage {
		path := filepath.Join(dir, name)
		if b == nil {
			Expect(os.Remove(path)).To(Succeed())
			continue
		}
		Expect(os.WriteFile(path, b, 0o644)).To(Succeed())
	}
	return dir
}

// sparse makes dir/name a file of size bytes that takes no disk (a huge
// artifact, as a copy gone wrong leaves one).
func sparse(dir, name string, size int64) string {
	f, err := os.Create(filepath.Join(dir, name))
	Expect(err).NotTo(HaveOccurred())
	Expect(f.Truncate(size)).To(Succeed())
	Expect(f.Close()).To(Succeed())
	return dir
}

func seedFile(name string) []byte {
	b, err := os.ReadFile(filepath.Join(seedRun, name))
	Expect(err).NotTo(HaveOccurred())
	return b
}

func replaced(name, old, new string) []byte {
	b := seedFile(name)
	Expect(bytes.Contains(b, []byte(old))).To(BeTrue(), "%s has no %q", name, old)
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

// Entries that ask the engine about a run are labelled e2e (they need
// Docker); the others run in make unit too.

// A bad input is an argument list (and environment) with the words its
// one-line message must contain. Arguments may use the placeholder DIR,
// filled by dir() at run time (the fixtures need a spec to exist).
type badInput struct {
	env  []string
	dir  func() string
	want string
	args []string
}

func bad(want string, args ...string) badInput { return badInput{want: want, args: args} }

func badDir(dir func() string, want string, args ...string) badInput {
	return badInput{dir: dir, want: want, args: args}
}

func badEnv(env []string, want string, args ...string) badInput {
	return badInput{env: env, want: want, args: args}
}

// runsOf lists the runs in the engine started by process pid.
func runsOf(pid int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runs, err := harness.ListRuns(ctx)
	if errors.Is(err, docker.ErrNoDocker) {
		return nil // no engine: nothing can be left in one (make unit needs no Docker)
	}
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, r := range runs {
		if r.Owner.PID == pid && r.Owner.Host == harness.CurrentOwner().Host {
			out = append(out, r.RunID)
		}
	}
	return out
}

var _ = Describe("bad input to every command", func() {
	DescribeTable("exits 2 with one line on stderr that names the problem, no stack trace, nothing left in the engine",
		func(in badInput) {
			args := append([]string(nil), in.args...)
			if in.dir != nil {
				dir := in.dir()
				for i, a := range args {
					args[i] = strings.ReplaceAll(a, "DIR", dir)
				}
			}
			cmd := exec.Command(binary, args...)
			cmd.Dir = GinkgoT().TempDir() // a stray run directory lands here
			cmd.Env = append(os.Environ(), in.env...)
			s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { s.Kill().Wait(10 * time.Second) })
			Eventually(s).WithTimeout(30*time.Second).Should(gexec.Exit(), "spockchaos %v did not exit within 30 s", args)
			stderr := strings.TrimRight(string(s.Err.Contents()), "\n")
			Expect(s.ExitCode()).To(Equal(2), "stderr: %s", stderr)
			Expect(strings.Split(stderr, "\n")).To(HaveLen(1), "stderr is not one line:\n%s", stderr)
			Expect(stderr).To(HavePrefix("spockchaos: "))
			Expect(stderr).To(ContainSubstring(in.want))
			Expect(stderr).NotTo(MatchRegexp(`panic|goroutine \d+|\.go:\d+`))
			Expect(runsOf(cmd.Process.Pid)).To(BeEmpty(), "containers or networks left by spockchaos %v", args)
		},
		// the command line itself
		Entry("no command", bad("give a command")),
		Entry("an unknown command", bad(`unknown command "frobnicate"`, "frobnicate")),
		Entry("an unknown flag", bad("unknown flag --frobnicate (spockchaos --help)", "--frobnicate")),
		Entry("an unknown flag of a command", bad("run: unknown flag --sed (spockchaos run --help)", "run", "baseline", "--sed", "7")),
		Entry("a scenario name with a typo", bad(`unknown scenario "lagged-kill-recovry": did you mean lagged-kill-recovery?`, "run", "lagged-kill-recovry")),
		Entry("help on an unknown command", bad(`help: unknown command "frobnicate"`, "help", "frobnicate")),
		Entry("bench without a subcommand", bad("give a subcommand", "bench")),
		Entry("bench with an unknown subcommand", bad(`unknown subcommand "frobnicate"`, "bench", "frobnicate")),
		Entry("image with an argument", bad(`unknown command "extra"`, "image", "extra")),
		// list
		Entry("list with two patterns", bad("accepts at most 1 arg", "list", "a", "b")),
		Entry("list with an unknown label", bad(`no scenario matches label "bogus"`, "list", "--label", "bogus")),
		Entry("list with a broken pattern", bad(`scenario pattern "["`, "list", "[")),
		// run
		Entry("run without a scenario", bad("accepts 1 arg", "run")),
		Entry("run with two scenarios", bad("accepts 1 arg", "run", "baseline", "extra")),
		Entry("run an unknown scenario", bad(`unknown scenario "no-such-scenario"`, "run", "no-such-scenario")),
		Entry("run with --nodes 0", bad("--nodes must not be 0", "run", "baseline", "--nodes", "0")),
		Entry("run with too many nodes", bad("needs 2..9 nodes, got 12", "run", "baseline", "--nodes", "12", "--plan")),
		Entry("run with negative nodes", bad("got -1", "run", "baseline", "--nodes", "-1", "--plan")),
		Entry("run with --duration 0s", bad("--duration must not be 0", "run", "baseline", "--duration", "0s")),
		Entry("run with a load under 1 s", bad("--duration must be at least 1s", "run", "baseline", "--duration", "500ms", "--plan")),
		Entry("run with a duration that is not one", bad(`invalid argument "soon" for "--duration"`, "run", "baseline", "--duration", "soon")),
		Entry("run with a seed that is not a number", bad(`invalid argument "x" for "--seed"`, "run", "baseline", "--seed", "x")),
		Entry("run with --seed 0", bad("--seed must not be 0", "run", "baseline", "--seed", "0")),
		Entry("run with an unknown flavor", bad(`unknown flavor "bdr"`, "run", "baseline", "--flavor", "bdr", "--plan")),
		Entry("run spock without an image", bad("name one with --image", "run", "baseline", "--flavor", "spock")),
		Entry("run on a PostgreSQL major the recipe does not build", bad("--pg 16: the node image is built for PostgreSQL 15, 17 or 18 only", "run", "baseline", "--pg", "16", "--plan")),
		Entry("run with --pg 0", bad("--pg must not be 0", "run", "baseline", "--pg", "0", "--plan")),
		Entry("run with --pg and a recipe image of another major", bad("disagree: that image is PostgreSQL 17", "run", "baseline", "--pg", "15", "--image", docker.ImageFor(17), "--plan")),
		Entry("run spock with --pg and no image", bad("flavor spock has no default image", "run", "baseline", "--flavor", "spock", "--pg", "18", "--plan")),
		Entry("up on an unknown PostgreSQL major", bad("--pg 14: the node image is built for PostgreSQL 15, 17 or 18 only", "up", "--pg", "14")),
		Entry("campaign on an unknown PostgreSQL major", bad("--pg 19: the node image is built for PostgreSQL 15, 17 or 18 only", "campaign", "baseline", "--pg", "19")),
		Entry("image of an unknown PostgreSQL major", bad("--pg 16: the node image is built for PostgreSQL 15, 17 or 18 only", "image", "--pg", "16")),
		Entry("run with an unknown recovery", bad(`unknown recovery strategy "magic"`, "run", "baseline", "--recovery", "magic", "--plan")),
		Entry("run with a negative timeout", bad("--timeout must be positive", "run", "baseline", "--timeout", "-1s")),
		Entry("run into an --out that cannot be made", bad("create reports folder /dev/null/x", "run", "baseline", "--out", "/dev/null/x")),
		Entry("run holding in a phase that is not one", badEnv([]string{"SPOCKCHAOS_HOLD_PHASE=nap"}, `SPOCKCHAOS_HOLD_PHASE="nap" is not a phase`, "run", "baseline", "--plan")),
		// up, down, clean
		Entry("run with a --set that is not NAME=VALUE", bad(`--set: setting "work_mem": want NAME=VALUE`, "run", "baseline", "--set", "work_mem", "--plan")),
		Entry("run with a --set name that is not a setting name", bad(`--set: setting "work-mem=8MB": "work-mem" is not a server setting name`, "run", "baseline", "--set", "work-mem=8MB", "--plan")),
		Entry("run with a --set without a value", bad(`--set: setting "work_mem=": no value after =`, "run", "baseline", "--set", "work_mem=")),
		Entry("run with one --set name given two values", bad("--set: setting work_mem given twice (8MB and 16MB)", "run", "baseline", "--set", "work_mem=8MB", "--set", "work_mem=16MB")),
		Entry("run with a --set the harness needs otherwise", bad("setting wal_level=replica: the harness needs wal_level=logical on flavor pglogical", "run", "baseline", "--set", "wal_level=replica", "--plan")),
		Entry("run with a --set of spock on pglogical", bad("setting spock.exception_behaviour: flavor pglogical knows pglogical.* and plain PostgreSQL settings only, not spock.*", "run", "baseline", "--set", "spock.exception_behaviour=sub_disable")),
		Entry("campaign with a --set that is not NAME=VALUE", bad(`--set: setting "lots": want NAME=VALUE`, "campaign", "baseline", "--set", "lots")),
		Entry("campaign with a --sweep without values", bad(`--sweep "spock.exception_behaviour": want NAME=VALUE,VALUE,...`, "campaign", "baseline", "--sweep", "spock.exception_behaviour")),
		Entry("campaign with a --sweep holding an empty value", bad(`--sweep: setting "work_mem=": no value after =`, "campaign", "baseline", "--sweep", "work_mem=4MB,")),
		Entry("campaign sweeping spock's setting on pglogical", bad("not spock.*", "campaign", "baseline", "--sweep", "spock.exception_behaviour=discard,sub_disable")),
		Entry("campaign with a setting both swept and set", bad("setting work_mem is both swept (--sweep) and set (--set): give one", "campaign", "baseline", "--sweep", "work_mem=4MB,8MB", "--set", "work_mem=8MB")),
		Entry("up with a --set the harness needs otherwise", bad("--set: setting track_commit_timestamp=off: the harness needs track_commit_timestamp=on on flavor pglogical", "up", "--set", "track_commit_timestamp=off")),
		Entry("up with a --set of spock on pglogical", bad("not spock.*", "up", "--set", "spock.exception_logging=all")),
		Entry("up with too many nodes", bad("--nodes must be between 2 and 9", "up", "--nodes", "12")),
		Entry("up with one node", bad("--nodes must be between 2 and 9", "up", "--nodes", "1")),
		Entry("up with an unknown flavor", bad(`unknown flavor "bdr"`, "up", "--flavor", "bdr")),
		Entry("up spock without an image", bad("--image", "up", "--flavor", "spock")),
		Entry("up with a schema file that does not exist", bad("--schema", "up", "--schema", "/nonexistent/schema.sql")),
		Entry("up with a negative ready timeout", bad("--ready-timeout must be positive", "up", "--ready-timeout", "-1s")),
		Entry("up with an argument", bad(`unknown command "extra"`, "up", "extra")),
		Entry("up with no Docker engine", badEnv([]string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "no Docker engine reachable", "up")),
		// doctor
		Entry("doctor with no Docker engine", badEnv([]string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "no Docker engine reachable", "doctor")),
		Entry("doctor on an image the engine lacks", Label("e2e"), bad("image spockchaos-no-such-image:badinput is not in the Docker engine", "doctor", "--flavor", "spock", "--image", "spockchaos-no-such-image:badinput")),
		Entry("doctor spock without an image", bad("flavor spock has no default image", "doctor", "--flavor", "spock")),
		Entry("doctor with an unknown flavor", bad(`unknown flavor "bdr"`, "doctor", "--flavor", "bdr")),
		Entry("doctor on a PostgreSQL major the recipe does not build", bad("--pg 16: the node image is built for PostgreSQL 15, 17 or 18 only", "doctor", "--pg", "16")),
		Entry("doctor with an argument", bad(`unknown command "extra"`, "doctor", "extra")),
		Entry("down without a run id", bad("exactly one of RUN_ID or --all", "down")),
		Entry("down with a run id and --all", bad("exactly one of RUN_ID or --all", "down", "x", "--all")),
		Entry("down a run that does not exist", Label("e2e"), bad("no containers or networks labelled spockchaos.run=no-such-run-badinput", "down", "no-such-run-badinput")),
		Entry("clean a run that does not exist", Label("e2e"), bad("clean no-such-run-badinput: no containers or networks labelled", "clean", "no-such-run-badinput")),
		// verify
		Entry("verify with no server", bad("need at least two servers", "verify")),
		Entry("verify with one server", bad("need at least two servers", "verify", "--dsn", "postgres://x@127.0.0.1:1/x")),
		Entry("verify with --run and --dsn", bad("give --run or --dsn, not both", "verify", "--run", "x", "--dsn", "postgres://x@127.0.0.1:1/x")),
		Entry("verify a run that does not exist", Label("e2e"), bad("no containers labelled", "verify", "--run", "no-such-run-badinput")),
		Entry("verify with a negative timeout", bad("--timeout must not be negative", "verify", "--timeout", "-1s", "--dsn", "a", "--dsn", "b")),
		Entry("verify --run on a directory with an empty run.json", badDir(func() string { return runDir(map[string][]byte{"run.json": {}}) }, "run.json: empty", "verify", "--run", "DIR")),
		Entry("verify --run on a run.json with no run id", badDir(func() string { return runDir(nil) }, "run.json names no run_id", "verify", "--run", "DIR")),
		// report: run.json and history.jsonl damaged
		Entry("report without a directory", bad("accepts 1 arg", "report")),
		Entry("report a directory that does not exist", bad("/nonexistent/run.json: missing: no such directory /nonexistent", "report", "/nonexistent")),
		Entry("report with an empty run.json", badDir(func() string { return runDir(map[string][]byte{"run.json": {}}) }, "run.json: empty", "report", "DIR")),
		Entry("report with a truncated run.json", badDir(func() string { return runDir(map[string][]byte{"run.json": seedFile("run.json")[:100]}) }, "run.json: truncated", "report", "DIR")),
		Entry("report with a run.json that is not UTF-8", badDir(func() string {
			return runDir(map[string][]byte{"run.json": append([]byte{0xff, 0xfe}, seedFile("run.json")...)})
		}, "run.json: not UTF-8", "report", "DIR")),
		Entry("report with a wrong-typed seed in run.json", badDir(func() string {
			return runDir(map[string][]byte{"run.json": replaced("run.json", `"seed": 11`, `"seed": "eleven"`)})
		}, "run.json: field seed: a JSON string where int64 is wanted", "report", "DIR")),
		Entry("report with an unknown verdict in run.json", badDir(func() string {
			return runDir(map[string][]byte{"run.json": replaced("run.json", `"verdict": "fail"`, `"verdict": "PASS"`)})
		}, `verdict "PASS" is not pass, fail`, "report", "DIR")),
		Entry("report with a run.json that is a list", badDir(func() string { return runDir(map[string][]byte{"run.json": []byte("[1,2]")}) }, "run.json: not a JSON object", "report", "DIR")),
		Entry("report with a huge run.json", badDir(func() string { return sparse(runDir(nil), "run.json", 300<<20) }, "run.json: 314572800 bytes, more than", "report", "DIR")),
		Entry("report with run.json a directory", badDir(func() string {
			d := runDir(map[string][]byte{"run.json": nil})
			Expect(os.Mkdir(filepath.Join(d, "run.json"), 0o755)).To(Succeed())
			return d
		}, "run.json: not a regular file", "report", "DIR")),
		Entry("report with a broken line inside history.jsonl", badDir(func() string {
			h := seedFile("history.jsonl")
			return runDir(map[string][]byte{"history.jsonl": append([]byte("{\"index\":0,\n"), h...)})
		}, "history.jsonl: line 1: malformed record", "report", "DIR")),
		Entry("report with non-UTF-8 inside history.jsonl", badDir(func() string {
			return runDir(map[string][]byte{"history.jsonl": append([]byte("{\"index\":\xff}\n"), seedFile("history.jsonl")...)})
		}, "history.jsonl: line 1: malformed record: not UTF-8", "report", "DIR")),
		Entry("report with a huge one-line history.jsonl", badDir(func() string { return sparse(runDir(nil), "history.jsonl", 100<<20) }, "history.jsonl: line 1: longer than", "report", "DIR")),
		// check: observation.json and history.jsonl damaged
		Entry("check without a directory", bad("accepts 1 arg", "check")),
		Entry("check with no observation.json", badDir(func() string { return runDir(map[string][]byte{"observation.json": nil}) }, "no observation.json", "check", "DIR")),
		Entry("check with an empty observation.json", badDir(func() string { return runDir(map[string][]byte{"observation.json": {}}) }, "observation.json: empty", "check", "DIR")),
		Entry("check with a truncated observation.json", badDir(func() string { return runDir(map[string][]byte{"observation.json": seedFile("observation.json")[:40]}) }, "observation.json: truncated", "check", "DIR")),
		Entry("check with a wrong-typed observation.json", badDir(func() string {
			return runDir(map[string][]byte{"observation.json": replaced("observation.json", `"t-1": 2`, `"t-1": "two"`)})
		}, "observation.json: field per_node.ledger: a JSON string where int is wanted", "check", "DIR")),
		Entry("check with no history.jsonl", badDir(func() string { return runDir(map[string][]byte{"history.jsonl": nil}) }, "history.jsonl: no such file", "check", "DIR")),
		Entry("check with a history whose invoke is completed twice", badDir(func() string {
			h := seedFile("history.jsonl")
			lines := bytes.SplitAfter(h, []byte("\n"))
			return runDir(map[string][]byte{"history.jsonl": append(append([]byte{}, h...), bytes.Replace(lines[1], []byte(`"index":1`), []byte(`"index":2`), 1)...)})
		}, "without an open invoke", "check", "DIR")),
		Entry("check with a truncated run.json", badDir(func() string { return runDir(map[string][]byte{"run.json": seedFile("run.json")[:60]}) }, "run.json: truncated", "check", "DIR")),
		// repro and shrink: run.json's config damaged
		Entry("repro without a directory", bad("accepts 1 arg", "repro")),
		Entry("repro a run.json with a wrong-typed node count", badDir(func() string { return runDir(map[string][]byte{"run.json": reproRunJSON(`"nodes":"3"`)}) }, "run.json config: field nodes: a JSON string where int is wanted", "repro", "DIR")),
		Entry("repro a plan on a node the run did not have", badDir(func() string { return runDir(map[string][]byte{"run.json": reproRunJSON(`"nodes":3`, `"node":"n9"`)}) }, `node "n9" is not one of n1..n3`, "repro", "DIR")),
		Entry("repro a plan step without a kind", badDir(func() string {
			return runDir(map[string][]byte{"run.json": reproRunJSON(`"nodes":3`, `"kind":""`)})
		}, "step 0: no kind", "repro", "DIR")),
		Entry("repro a run.json with a negative load", badDir(func() string { return runDir(map[string][]byte{"run.json": reproRunJSON(`"nodes":3`, `"load":"-5s"`)}) }, `config load "-5s"`, "repro", "DIR")),
		Entry("repro a run.json with an unknown recovery", badDir(func() string {
			return runDir(map[string][]byte{"run.json": reproRunJSON(`"nodes":3`, `"recovery":"magic"`)})
		}, `unknown recovery strategy "magic"`, "repro", "DIR")),
		Entry("repro a run.json without a config", badDir(func() string { return runDir(nil) }, "run.json's config lacks nodes", "repro", "DIR")),
		Entry("shrink a directory that does not exist", bad("/nonexistent/run.json: missing", "shrink", "/nonexistent")),
		Entry("shrink with a negative budget", badDir(func() string { return runDir(nil) }, "--budget and --budget-time must not be negative", "shrink", "DIR", "--budget", "-1")),
		// load, bench, campaign
		Entry("load without a cluster", bad("exactly one of --run RUN_ID or --dsn DSN", "load")),
		Entry("load with an unknown workload", bad(`unknown workload "nope"`, "load", "--dsn", "x", "--workload", "nope")),
		Entry("bench up with no runs", bad("--runs must be at least 1", "bench", "up", "--runs", "0")),
		Entry("bench recovery with no transactions", bad("--txns and --rows must be at least 1", "bench", "recovery", "--txns", "0")),
		Entry("bench verify with too few rows", bad("--rows must be at least 10", "bench", "verify", "--rows", "0")),
		Entry("campaign with no scenario", bad("name scenarios (names or patterns) or give --label", "campaign")),
		Entry("campaign of an unknown scenario", bad(`no scenario matches name "frobnicate"`, "campaign", "frobnicate")),
		Entry("campaign with --seeds and --seed-list", bad("give --seeds or --seed-list, not both", "campaign", "baseline", "--seeds", "2", "--seed-list", "1,2")),
		Entry("campaign with a seed list that is not one", bad(`--seed-list: "x" is not a positive integer seed`, "campaign", "baseline", "--seed-list", "x")),
		Entry("campaign with a shard past the end", bad(`--shard "3/2"`, "campaign", "baseline", "--shard", "3/2")),
		Entry("campaign with no repeat", bad("--repeat must be at least 1", "campaign", "baseline", "--repeat", "0")),
		Entry("campaign with no parallelism", bad("--parallel must be at least 1", "campaign", "baseline", "--parallel", "0")),
		Entry("campaign on an unknown flavor", bad(`unknown flavor "bdr"`, "campaign", "baseline", "--flavor", "bdr")),
		Entry("campaign merge without shards", bad("requires at least 1 arg", "campaign", "merge")),
		Entry("campaign merge without --out", bad("merge needs --out DIR", "campaign", "merge", "/x")),
		Entry("campaign report on a folder that is not a campaign", bad("/nonexistent/campaign.json", "campaign", "report", "/nonexistent")),
	)
})

// reproRunJSON is a run.json repro accepts, with the config fields
// replaced by the given "key":value pairs.
func reproRunJSON(changes ...string) []byte {
	cfg := map[string]string{`"nodes"`: `"nodes":3`, `"load"`: `"load":"10s"`, `"recovery"`: `"recovery":"auto"`, `"node"`: `"node":"n2"`, `"kind"`: `"kind":"kill"`}
	for _, c := range changes {
		key := c[:strings.Index(c, ":")]
		cfg[key] = c
	}
	return []byte(`{"scenario":"kill-mid-load","seed":7,"flavor":"pglogical","config":{` + cfg[`"nodes"`] + `,"flavor":"pglogical",` +
		cfg[`"recovery"`] + `,` + cfg[`"load"`] + `,"clients_per_node":2,"plan":[{"at":3000000000,` + cfg[`"kind"`] + `,` + cfg[`"node"`] + `}]},` +
		`"nodes":[],"phases":[],"faults":[],"checkers":[],"verdict":"fail"}`)
}
