package pgversion

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
)

// Oldest and Newest are the PostgreSQL majors spockchaos supports.
const (
	Oldest = 15
	Newest = 18
)

var versionRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?`)

// Num parses a server_version ("17.12 (Debian 17.12-0+deb13u1)", "18devel",
// "18beta1", "15.18") into server_version_num (170012, 180000, 180000,
// 150018). Versions before 10 (three-part) are refused.
func Num(serverVersion string) (int, error) {
	m := versionRE.FindStringSubmatch(serverVersion)
	if m == nil {
		return 0, fmt.Errorf("server_version %q is not a PostgreSQL version", serverVersion)
	}
	major, _ := strconv.Atoi(m[1])
	minor := 0
	if m[2] != "" {
		minor, _ = strconv.Atoi(m[2])
	}
	if major < 10 {
		return 0, fmt.Errorf("server_version %q: PostgreSQL %d is older than spockchaos knows", serverVersion, major)
	}
	return major*10000 + minor, nil
}

// Of is the server_version_num of an open connection, from the
// server_version it reported at start; 0 when it did not (a connection
// pooler, say).
func Of(c *pgconn.PgConn) int {
	n, err := Num(c.ParameterStatus("server_version"))
	if err != nil {
		return 0
	}
	return n
}

// Major is the major of a server_version_num (170012 -> 17).
func Major(num int) int { return num / 10000 }

// Supported is nil for a major spockchaos runs on, else one line saying
// which it runs on.
func Supported(num int) error {
	if m := Major(num); m < Oldest || m > Newest {
		return fmt.Errorf("PostgreSQL %d is not supported: spockchaos runs on PostgreSQL %d to %d", m, Oldest, Newest)
	}
	return nil
}

// LogStandbySnapshot says whether the server has pg_log_standby_snapshot()
// (16+). Without it the recovery slot keeper cannot log a running-xacts
// record before each reading; the slots' restart_lsn then moves only to
// the records the background writer logs every 15 s, so a recovery stream
// decodes up to 15 s more WAL before its start (its start, and so what it
// applies, is the same).
func LogStandbySnapshot(num int) bool { return num >= 160000 }

// PgoutputOrigin says whether pgoutput takes the origin option (16+). On
// 15 it refuses the option and always sends every origin's changes, which
// is what the recovery stream asks for with origin 'any'.
func PgoutputOrigin(num int) bool { return num >= 160000 }

// PgoutputMaxProto is the highest pgoutput protocol version the server
// speaks: 4 (streaming in parallel) on 16+, 3 (two-phase) on 15.
func PgoutputMaxProto(num int) int {
	if num >= 160000 {
		return 4
	}
	return 3
}

// EmitMessageFlush says whether pg_logical_emit_message takes its flush
// argument (17+). Before 17 a message is flushed only by a later commit
// that flushes: the caller assigns its transaction an id and commits it
// with synchronous_commit on (one commit record more, an empty
// transaction that pgoutput skips and pglogical forwards).
func EmitMessageFlush(num int) bool { return num >= 170000 }
