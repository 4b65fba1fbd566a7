// Package pricing totals quotes.
//
// WHY (a generic FUNCTION with a closure): Collect[T] starts a goroutine
// closure that writes t.quotes; Go names it Collect[...].func1 (the shape
// argument elided). Quotes reads the field without a lock.
package pricing

type Tally struct{ quotes int }

// Collect counts the items in a goroutine and returns a wait function.
func Collect[T any](t *Tally, items []T) (wait func()) {
	done := make(chan struct{})
	go func() {
		t.quotes += len(items)
		close(done)
	}()
	return func() { <-done }
}

// Quotes reads the counter (plain read).
func Quotes(t *Tally) int { return t.quotes }
