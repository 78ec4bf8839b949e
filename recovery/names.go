package recovery

import (
	"fmt"
	"time"
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
// of its own on every subscription), so the harness's must differ; it is
// kept short so that a clone's name stays under 63 bytes.
func RecoverySlotName(db, self, peer string) string {
	return fmt.Sprintf("spockchaos_%s_%s_%s", db, self, peer)
}

// ownSlotPattern matches (LIKE) every slot the harness makes, clones
// included, so that a Spock runbook's clean-up never touches them.
const ownSlotPattern = `spockchaos\_%`

// CloneSlotName is a fresh clone of the recovery slot of source for
// failed. It names no target: it is copied before the source and its
// targets are known (every survivor copies one while the fence runs).
// Names stay well under the 63-byte limit for node names n1..n9.
func CloneSlotName(db, source, failed string, now time.Time) string {
	return fmt.Sprintf("%s_clone_%d", RecoverySlotName(db, source, failed), now.UnixNano())
}

// clonePattern matches every clone of the recovery slot of source for
// failed (LIKE pattern; '_' is escaped).
func clonePattern(db, source, failed string) string {
	return likeEscape(RecoverySlotName(db, source, failed)+"_clone_") + "%"
}

func likeEscape(s string) string {
	out := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		if s[i] == '_' || s[i] == '%' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
