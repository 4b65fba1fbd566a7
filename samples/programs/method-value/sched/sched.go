// Package sched runs callbacks in their own goroutine.
package sched

// Go runs fn in a new goroutine. Passing a method value (sched.Go(c.Inc))
// makes the goroutine start in the compiler-generated Inc-fm wrapper.
func Go(fn func()) {
	go fn()
}
