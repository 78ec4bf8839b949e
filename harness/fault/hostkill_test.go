package fault

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the host kill's container check", func() {
	id := strings.Repeat("ab12", 16)
	other := strings.Repeat("cd34", 16)
	DescribeTable("matches a process's cgroup file against the container ID",
		func(cgroup, id string, want bool) {
			Expect(cgroupNamesContainer(cgroup, id)).To(Equal(want))
		},
		Entry("cgroup v1", "12:memory:/docker/"+id+"\n11:cpu,cpuacct:/docker/"+id+"\n", id, true),
		Entry("cgroup v2 with systemd", "0::/system.slice/docker-"+id+".scope\n", id, true),
		Entry("another container", "0::/system.slice/docker-"+other+".scope\n", id, false),
		Entry("a host process", "0::/user.slice/user-0.slice/session-1.scope\n", id, false),
		Entry("a short ID never matches", "0::/docker/"+id+"\n", id[:12], false),
		Entry("an empty ID never matches", "0::/\n", "", false),
		Entry("not a cgroup file", "not a cgroup file", id, false),
	)
})
