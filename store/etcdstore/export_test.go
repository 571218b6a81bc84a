package etcdstore

// SetTrimEvery sets how many audit appends pass between two retention
// checks in stores opened afterwards, and returns the undo.
func SetTrimEvery(n int) (undo func()) {
	old := trimEvery
	trimEvery = n
	return func() { trimEvery = old }
}
