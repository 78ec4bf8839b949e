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
const endMarkerPrefix = "spockchaos_recovery_end"

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
const ownSlotPattern = `spockchaos\_%`
