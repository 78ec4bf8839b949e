package recovery

import "github.com/jackc/pglogrepl"

// LSN is a WAL position (pglogrepl's).
type LSN = pglogrepl.LSN

// ParseLSN parses "X/Y".
func ParseLSN(s string) (LSN, error) { return pglogrepl.ParseLSN(s) }
