package recovery

import (
	"fmt"
)

// DefaultDB is the database every node replicates.
const DefaultDB = "postgres"

// PublicationName is the publication on every node that the recovery slots
// decode with pgoutput.
const PublicationName = "spockchaos_recovery"

// endMarkerPrefix is the prefix of the logical message that marks the end
// of a recovery stream (see stream.go).
const EndMarkerPrefix = "spockchaos_recovery_end"

// RecoverySlotName is the harness's recovery slot on node self kept for
// peer: spockchaos_<db>_<self>_<peer>. DESIGN.md calls recovery slots
// spock_<db>_recovery_<S>_<X>, but that is the name Spock's own recovery
// slots take (pull request 144 creates an inactive spock_<db>_recovery_<a>_<b>
// of its own on every subscription), so the harness's must differ.
func RecoverySlotName(db, self, peer string) string {
	return fmt.Sprintf("spockchaos_%s_%s_%s", db, self, peer)
}

// ownSlotPattern matches (LIKE) every slot the harness makes, so that a
// Spock runbook's clean-up never touches them.
const OwnSlotPattern = `spockchaos\_%`

// FloorMessagePrefix is the prefix of the keeper's floor messages: a
// flushed, non-transactional logical message written on a node S each
// round, whose content lists, one line per subscription of S,
// "<subscription> <origin> <remote_lsn> <local_lsn>" as read in the same
// statement. It makes the round's readings durable, and in a recovery
// stream of S it is the proof point of the slot position it justified.
const FloorMessagePrefix = "spockchaos_recovery_floor"

// parseSample parses a remote_lsn and a local_lsn as the floor message
// writes them ("" or a missing value reads as 0/0).
func ParseSample(remote, local string) (OriginSample, error) {
	var s OriginSample
	var err error
	if s.Origin, err = ParseLSN(remote); err != nil {
		return s, fmt.Errorf("origin LSN %q: %w", remote, err)
	}
	if s.Local, err = ParseLSN(local); err != nil {
		return s, fmt.Errorf("local LSN %q: %w", local, err)
	}
	return s, nil
}
