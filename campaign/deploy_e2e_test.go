package campaign_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"go.yaml.in/yaml/v3"

	"github.com/spockchaos/spockchaos/campaign"
)

// The workflow and the Indexed Job under deploy/, as the engines read
// them; only what the spec runs is decoded.
type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Strategy struct {
			Matrix map[string][]int `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Name string            `yaml:"name"`
			Env  map[string]string `yaml:"env"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

type k8sJob struct {
	Kind string `yaml:"kind"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				Containers []struct {
					Env []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					Command []string `yaml:"command"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// smallCampaign replaces the deploy files' campaign (every gate scenario x
// 10 seeds) by 2 cells of baseline with a 2 s load; the command lines
// themselves run as written.
var smallCampaign = map[string]string{"CAMPAIGN": "baseline", "SEEDS": "2", "DURATION": "2s"}

func deployFile(name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "deploy", name))
	Expect(err).NotTo(HaveOccurred())
	return b
}

// shell runs script with shell (as the engine would) in dir, with env
// added to the environment, and returns its exit code.
func shell(dir, shellPath, script string, env map[string]string) int {
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	cmd := exec.Command(shellPath, "-c", script)
	cmd.Dir, cmd.Env = dir, os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(s).WithTimeout(5 * time.Minute).Should(gexec.Exit())
	return s.ExitCode()
}

func merged(env ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, e := range env {
		for k, v := range e {
			out[k] = v
		}
	}
	return out
}

// sameCells is a campaign's cells without what differs between two runs
// of one cell (start, duration, folder, shard, host).
func sameCells(dir string) []campaign.CellResult {
	c, err := campaign.LoadIndex(dir)
	Expect(err).NotTo(HaveOccurred())
	var out []campaign.CellResult
	for _, r := range c.Cells {
		Expect(r.State).To(Equal(campaign.StateDone), "cell %s in %s", r.ID, dir)
		r.Started, r.DurationSeconds, r.RunDir, r.Shard, r.Host = time.Time{}, 0, "", "", ""
		out = append(out, r)
	}
	return out
}

var _ = Describe("the deploy files", Label("e2e"), func() {
	It("run as shards (GitHub Actions matrix, Kubernetes Indexed Job) and merge into the campaign the unsharded run gives, cell for cell", func(ctx SpecContext) {
		bin, err := gexec.Build("github.com/spockchaos/spockchaos/cmd/spockchaos")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
		path := map[string]string{"PATH": filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")}
		root := GinkgoT().TempDir()

		var wf workflow
		Expect(yaml.Unmarshal(deployFile("github-actions/qualify.yml"), &wf)).To(Succeed())
		shards := wf.Jobs["shard"].Strategy.Matrix["shard"]
		Expect(shards).NotTo(BeEmpty())
		Expect(wf.Env["SHARDS"]).To(Equal(strconv.Itoa(len(shards))), "SHARDS and the matrix must agree")
		var shardStep, mergeStep string
		var shardEnv map[string]string
		for _, s := range wf.Jobs["shard"].Steps {
			if s.Name == "campaign shard" {
				shardStep, shardEnv = s.Run, s.Env
			}
		}
		for _, s := range wf.Jobs["merge"].Steps {
			if s.Name == "merge" {
				mergeStep = s.Run
			}
		}
		Expect(shardStep).To(ContainSubstring("spockchaos campaign"))
		Expect(shardEnv["SHARD"]).To(Equal("${{ matrix.shard }}"))
		Expect(mergeStep).To(ContainSubstring("spockchaos campaign merge"))

		dec := yaml.NewDecoder(strings.NewReader(string(deployFile("kubernetes/qualify-job.yaml"))))
		var indexed, merge k8sJob
		Expect(dec.Decode(&indexed)).To(Succeed())
		Expect(dec.Decode(&merge)).To(Succeed())
		Expect(indexed.Spec.CompletionMode).To(Equal("Indexed"))
		Expect(indexed.Spec.Parallelism).To(Equal(indexed.Spec.Completions))
		pod := indexed.Spec.Template.Spec.Containers[0]
		podEnv := map[string]string{}
		for _, e := range pod.Env {
			podEnv[e.Name] = e.Value
		}
		Expect(podEnv["SHARDS"]).To(Equal(strconv.Itoa(indexed.Spec.Completions)), "SHARDS and completions must agree")
		Expect(pod.Command[:2]).To(Equal([]string{"/bin/sh", "-c"}))
		mergeCmd := merge.Spec.Template.Spec.Containers[0].Command
		Expect(mergeCmd[:2]).To(Equal([]string{"/bin/sh", "-c"}))

		By("the unsharded campaign")
		whole := filepath.Join(root, "whole")
		Expect(shell(root, "/bin/sh", "spockchaos campaign baseline --seeds 2 --duration 2s --out whole", path)).To(Equal(0))
		want := sameCells(whole)
		Expect(want).To(HaveLen(2))

		By("the workflow's shard step once per matrix entry, then its merge step")
		gh := filepath.Join(root, "github")
		for _, s := range shards {
			env := merged(wf.Env, smallCampaign, map[string]string{"SHARD": strconv.Itoa(s)}, path)
			Expect(shell(gh, "/bin/bash", shardStep, env)).To(Equal(0), "shard %d", s)
		}
		Expect(shell(gh, "/bin/bash", mergeStep, path)).To(Equal(0))
		Expect(sameCells(filepath.Join(gh, "campaign"))).To(Equal(want))

		By("the Indexed Job's command once per completion index, then the merge Job's")
		k8s := filepath.Join(root, "kubernetes")
		for i := range indexed.Spec.Completions {
			env := merged(podEnv, smallCampaign, map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)}, path)
			Expect(shell(k8s, pod.Command[0], pod.Command[2], env)).To(Equal(0), "index %d", i)
		}
		Expect(shell(k8s, mergeCmd[0], mergeCmd[2], path)).To(Equal(0))
		Expect(sameCells(filepath.Join(k8s, "merged"))).To(Equal(want))
	}, NodeTimeout(15*time.Minute))
})
