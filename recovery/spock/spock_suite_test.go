package spock

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestSpock(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "recovery/spock")
}
