// Package verify holds the checkers: row-level convergence across
// survivors, and history checkers (durability, atomicity, indeterminate
// writes, invariants). Every checker returns a CheckResult; an error or a
// panic inside a checker becomes Unknown, never Pass.
package verify
