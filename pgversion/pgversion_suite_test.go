package pgversion_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestPgversion(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "pgversion")
}
