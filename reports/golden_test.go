package reports_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
)

var _ = Describe("re-rendering an earlier run directory", func() {
	It("writes the results.json its run wrote", func() {
		dirs, err := filepath.Glob(filepath.Join("..", "record", "testdata", "golden", "*"))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(dirs)).To(BeNumerically(">=", 5), "the golden run directories are missing")
		for _, golden := range dirs {
			dir := GinkgoT().TempDir()
			for _, name := range []string{record.RunFile, reports.ResultsFile} {
				b, err := os.ReadFile(filepath.Join(golden, name))
				Expect(err).NotTo(HaveOccurred())
				Expect(os.WriteFile(filepath.Join(dir, name), b, 0o644)).To(Succeed())
			}
			stored, err := os.ReadFile(filepath.Join(dir, reports.ResultsFile))
			Expect(err).NotTo(HaveOccurred())
			_, err = reports.Rerender(dir)
			Expect(err).NotTo(HaveOccurred(), golden)
			written, err := os.ReadFile(filepath.Join(dir, reports.ResultsFile))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(written)).To(Equal(string(stored)), golden)
		}
	})
})
