// Package recovery recovers a failed node's transactions on the survivors:
// the reference slot-based strategy on stock PostgreSQL, Spock's runbooks
// by detected API, and a no-recovery control. Every strategy returns a
// Result that states what it moved, or that there was nothing to move.
package recovery
