package pgnode

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestPgnode(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "recovery/internal/pgnode")
}

var _ = Describe("the replication connection string", func() {
	It("adds replication=database to URL and key=value DSNs", func() {
		u, err := replicationDSN("postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable")
		Expect(err).NotTo(HaveOccurred())
		Expect(u).To(ContainSubstring("replication=database"))
		Expect(u).To(ContainSubstring("sslmode=disable"))
		kv, err := replicationDSN("host=n2 dbname=postgres")
		Expect(err).NotTo(HaveOccurred())
		Expect(kv).To(Equal("host=n2 dbname=postgres replication=database"))
	})
})
