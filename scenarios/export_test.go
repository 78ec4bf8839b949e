package scenarios

// Exported for the specs of package scenarios_test.
var (
	RecoveryRecord = recoveryRecord
	KeeperRecord   = keeperRecord
)
