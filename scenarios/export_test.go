package scenarios

// Exported for the specs of package scenarios_test.
var (
	RecoveryRecord = recoveryRecord
	KeeperRecord   = keeperRecord
	// ReplicationHealth is the replication-health checker on a cluster.
	ReplicationHealth = replicationHealth
	// ExceptionAudit is the exception-audit checker on a cluster.
	ExceptionAudit = exceptionAudit
)

// StepKindKnown reports whether the runner has an entry for kind in its
// step table.
func StepKindKnown(kind string) bool {
	_, ok := stepKinds[kind]
	return ok
}

// ValidateSpec is Spec.validate (what Register checks).
func ValidateSpec(s *Spec) error { return s.validate() }
