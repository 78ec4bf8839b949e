package reports_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// chromiumBinary finds Debian's chromium. Without it the browser specs
// skip with one line: `make test` installs it (scripts/setup --tests), so
// the test command never skips them; a bare `go test` on a machine
// without it does.
func chromiumBinary() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Skip("chromium is not installed: the report.html browser specs are skipped (make test installs it; Debian: apt-get install -y chromium)")
	return ""
}

// headless runs chromium on url with the flags that keep it off the
// network, plus extra, and returns stdout and stderr.
func headless(ctx context.Context, url string, extra ...string) (string, string) {
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + GinkgoT().TempDir(),
		"--enable-logging=stderr", "--v=0", "--window-size=1280,2000"}, extra...)
	cmd := exec.CommandContext(ctx, chromiumBinary(), append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	Expect(err).NotTo(HaveOccurred(), "chromium %v: %s", args, stderr.String())
	return stdout.String(), stderr.String()
}

// consoleLines are the page's console messages in chromium's log.
func consoleLines(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Content Security Policy") || strings.Contains(line, "Uncaught") {
			out = append(out, line)
		}
	}
	return out
}

var _ = Describe("report.html in headless Chromium", func() {
	It("shows the verdict and the charts, with no console error, and leaves a screenshot", func(ctx SpecContext) {
		parent := GinkgoT().TempDir()
		dir, _ := writeSyntheticRun(parent)
		url := "file://" + filepath.Join(dir, "report.html")

		dom, stderr := headless(ctx, url, "--dump-dom")
		Expect(consoleLines(stderr)).To(BeEmpty(), "console output of report.html")
		Expect(dom).To(ContainSubstring(`id="verdict" class="verdict fail" data-verdict="fail"`))
		Expect(strings.Count(dom, `<svg class="chart"`)).To(Equal(1+2*3), "the phase timeline and two charts per node")
		Expect(dom).To(ContainSubstring("n2 → n3"))
		Expect(dom).To(ContainSubstring("n1-4900"), "the differing row's key")
		Expect(dom).To(ContainSubstring("p&lt;script&gt;x&lt;/script&gt;"), "row values are escaped")
		Expect(dom).To(ContainSubstring(`id="diff-filter"`))

		shot := filepath.Join(GinkgoT().TempDir(), "report.png")
		_, stderr = headless(ctx, url, "--screenshot="+shot, "--hide-scrollbars")
		Expect(consoleLines(stderr)).To(BeEmpty())
		b, err := os.ReadFile(shot)
		Expect(err).NotTo(HaveOccurred())
		img, err := png.Decode(bytes.NewReader(b))
		Expect(err).NotTo(HaveOccurred())
		Expect(img.Bounds().Dx()).To(Equal(1280))
		// The fail badge (#cf222e) is drawn: count its pixels.
		red := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r>>8 > 190 && r>>8 < 220 && g>>8 < 50 && bl>>8 > 30 && bl>>8 < 60 {
					red++
				}
			}
		}
		Expect(red).To(BeNumerically(">", 200), "the red verdict badge is visible in the screenshot")
		if dest := os.Getenv("SPOCKCHAOS_ARTIFACTS"); dest != "" {
			Expect(os.MkdirAll(dest, 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dest, "report-screenshot.png"), b, 0o644)).To(Succeed())
			page, err := os.ReadFile(filepath.Join(dir, "report.html"))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(dest, "report-sample.html"), page, 0o644)).To(Succeed())
		}
		AddReportEntry("screenshot", shot)
	}, SpecTimeout(2*time.Minute))
})
