package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/spockchaos/spockchaos/docker"
)

var _ = Describe("spockchaos doctor", Label("e2e"), func() {
	It("on the default image: versions, user, settings, capabilities, and every fault kind and scenario runnable; nothing left behind", func() {
		cmd := exec.Command(binary, "doctor", "--json")
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { s.Interrupt().Wait(time.Minute) })
		Eventually(s).WithTimeout(3*time.Minute).Should(gexec.Exit(0), string(s.Err.Contents()))
		var out struct {
			Postgres   string                        `json:"postgresql"`
			Num        int                           `json:"server_version_num"`
			User       string                        `json:"server_user"`
			Settings   map[string]string             `json:"settings"`
			Extensions []struct{ Name string }       `json:"extensions"`
			API        string                        `json:"recovery_api"`
			Caps       map[string]struct{ OK bool }  `json:"capabilities"`
			Faults     []struct{ Name, Runs string } `json:"fault_kinds"`
			Scenarios  []struct{ Name, Runs string } `json:"scenarios"`
		}
		Expect(json.Unmarshal(s.Out.Contents(), &out)).To(Succeed(), string(s.Out.Contents()))
		Expect(out.Postgres).To(HavePrefix("PostgreSQL 17."))
		Expect(out.Num).To(BeNumerically(">=", 170000))
		Expect(out.User).To(MatchRegexp(`^uid \d+ \(postgres\)$`))
		Expect(out.Settings).To(HaveKeyWithValue("wal_level", "logical"))
		Expect(out.Extensions).To(ContainElement(HaveField("Name", "pglogical")))
		Expect(out.API).To(BeEmpty())
		Expect(out.Caps["supported-major"].OK).To(BeTrue())
		Expect(out.Caps["flavor-extension"].OK).To(BeTrue())
		Expect(out.Caps["spock-recovery-api"].OK).To(BeFalse())
		Expect(out.Faults).To(ContainElement(HaveField("Name", "partition")))
		for _, f := range out.Faults {
			Expect(f.Runs).To(Equal("yes"), f.Name)
		}
		Expect(out.Scenarios).To(ContainElement(And(HaveField("Name", "partition-heal"), HaveField("Runs", "yes"))))
		Expect(runsOf(cmd.Process.Pid)).To(BeEmpty(), "the probe node was left behind")
	})

	It("refuses a run whose plan the image cannot carry out before anything starts, naming step, capability and image (a probe node decides)", func() {
		const tag = "spockchaos-test-notspock:e2e"
		Expect(exec.Command("docker", "tag", docker.DefaultImage(), tag).Run()).To(Succeed())
		DeferCleanup(func() { _ = exec.Command("docker", "rmi", tag).Run() })
		dir := GinkgoT().TempDir()
		cmd := exec.Command(binary, "run", "lagged-kill-recovery", "--seed", "7", "--flavor", "spock", "--image", tag, "--recovery", "spock", "--out", dir)
		cmd.Env = os.Environ()
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { s.Interrupt().Wait(time.Minute) })
		Eventually(s).WithTimeout(3 * time.Minute).Should(gexec.Exit(2))
		stderr := strings.TrimSpace(string(s.Err.Contents()))
		Expect(strings.Split(stderr, "\n")).To(HaveLen(1), stderr)
		Expect(stderr).To(Equal(`spockchaos: step "up" needs capability flavor-extension, which image ` + tag + ` lacks: pg_available_extensions has no spock`))
		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty(), "a run directory was made: %v", filepath.Join(dir, "..."))
		Expect(runsOf(cmd.Process.Pid)).To(BeEmpty())
	})

	It("refuses a clock-skew scenario on an image without glibc at start, naming the clock-skew step", func() {
		const tag = "spockchaos-test-noglibc-run:e2e"
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		Expect(tw.WriteHeader(&tar.Header{Name: "etc/hostname", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})).To(Succeed())
		_, err := tw.Write([]byte("x\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(tw.Close()).To(Succeed())
		imp := exec.Command("docker", "import", "-", tag)
		imp.Stdin = &buf
		out, err := imp.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		DeferCleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
		dir := GinkgoT().TempDir()
		cmd := exec.Command(binary, "run", "ycsb-a-clock-skew", "--seed", "7", "--image", tag, "--out", dir)
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { s.Interrupt().Wait(time.Minute) })
		Eventually(s).WithTimeout(2 * time.Minute).Should(gexec.Exit(2))
		stderr := strings.TrimSpace(string(s.Err.Contents()))
		Expect(strings.Split(stderr, "\n")).To(HaveLen(1), stderr)
		Expect(stderr).To(MatchRegexp(`^spockchaos: step "t\+[0-9.]+m?s clock-skew n\d by 30s for 6s" needs capability clock-skew, which image ` + tag + ` lacks: .*no glibc found`))
		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(BeEmpty())
		Expect(runsOf(cmd.Process.Pid)).To(BeEmpty())
	})
})
