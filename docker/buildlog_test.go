package docker

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the image build's terminal output", func() {
	It("passes on the recipe's step lines only, whole, however the output is cut", func() {
		var out bytes.Buffer
		s := &stepLines{w: &out}
		input := "Get:1 http://deb.debian.org trixie InRelease\nspockchaos image: debootstrap trixie into /x\nI: Retrieving\nspockchaos ima" +
			"ge: installing PostgreSQL 17 + pglogical\nSetting up postgresql-17\n"
		for _, chunk := range strings.SplitAfter(input, "i") { // cut mid-line
			_, err := s.Write([]byte(chunk))
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(out.String()).To(Equal("node image: debootstrap trixie into /x\nnode image: installing PostgreSQL 17 + pglogical\n"))
	})

	It("shows the last lines of the log on failure", func() {
		path := filepath.Join(GinkgoT().TempDir(), "build.log")
		Expect(os.WriteFile(path, []byte("a\nb\nc\nd\n"), 0o644)).To(Succeed())
		Expect(tailOf(path, 2)).To(Equal("c\nd\n"))
		Expect(tailOf(path, 10)).To(Equal("a\nb\nc\nd\n"))
		Expect(tailOf(filepath.Join(path, "nope"), 2)).To(BeEmpty())
	})
})
