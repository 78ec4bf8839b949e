package scenarios

// DefaultOutDir is where run directories go when no --out is given: a
// folder of its own, apart from the source tree (reports/ is the Go
// package that renders them). Campaigns default to DefaultOutDir too.
const DefaultOutDir = "runs"
