package pgnode

import (
	"fmt"

	"github.com/spockchaos/spockchaos/pgversion"
)

// FlushedMessage is a non-transactional logical message (prefix and
// content are SQL expressions) that is flushed to disk before the
// statement's results are all read, on a server of server_version_num
// num: call is the expression that writes it (its LSN), from an item to
// add to the statement's FROM ("" when none is needed). On 17+ the
// message flushes itself; before (pgversion.EmitMessageFlush), and when
// the version is unknown (0), the statement's transaction gets an id and
// commits with synchronous_commit on, which flushes the WAL past the
// message.
func FlushedMessage(num int, prefix, content string) (call, from string) {
	if pgversion.EmitMessageFlush(num) {
		return fmt.Sprintf("pg_logical_emit_message(false, %s, %s, true)", prefix, content), ""
	}
	return fmt.Sprintf("pg_logical_emit_message(false, %s, %s)", prefix, content),
		"(SELECT set_config('synchronous_commit', 'on', true), pg_current_xact_id()) AS flush_at_commit"
}

// FlushedMessageSQL is a statement that writes a flushed message and
// returns its LSN (as pg_lsn, or text with asText).
func FlushedMessageSQL(num int, prefix, content string, asText bool) string {
	call, from := FlushedMessage(num, prefix, content)
	if asText {
		call += "::text"
	}
	if from == "" {
		return "SELECT " + call
	}
	return "SELECT " + call + " FROM " + from
}

// FlushSQL writes a WAL record and flushes the WAL up to it.
func FlushSQL(num int) string {
	return FlushedMessageSQL(num, "'spockchaos_recovery_flush'", "''", false)
}
