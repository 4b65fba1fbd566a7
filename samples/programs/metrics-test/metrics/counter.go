// Package metrics has a counter that is not safe for concurrent use.
//
// WHY (case 13): the race is found by a unit test, so the report appears
// inside `go test -race -v` output (followed by "--- FAIL",
// "testing.go:NNN: race detected during execution of test", "FAIL") and,
// with `go test -race -json`, one JSON event per line of the report.
package metrics

type Counter struct{ n int64 }

// Inc adds one (plain read-modify-write).
func (c *Counter) Inc() { c.n++ }

// Value returns the count (plain read).
func (c *Counter) Value() int64 { return c.n }
