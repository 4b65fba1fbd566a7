// Package lease tracks when a lease expires.
//
// WHY (case 9): Expire runs from a time.AfterFunc timer, so the goroutine
// that wrote the field was created by the runtime and its creation stack is
// "time.goFunc()" (time/sleep.go), not application code.
package lease

type Table struct {
	deadline int64
}

func New(deadline int64) *Table { return &Table{deadline: deadline} }

// Expire clears the deadline (plain write, called from a timer).
func (t *Table) Expire() { t.deadline = 0 }

// Remaining returns the deadline (plain read).
func (t *Table) Remaining() int64 { return t.deadline }
