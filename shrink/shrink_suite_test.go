package shrink_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestShrink(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "shrink")
}
