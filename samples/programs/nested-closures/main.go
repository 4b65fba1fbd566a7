// pipeline: closures inside closures, four bugs, one per shape.
//
// Each racing pair lives in its own //go:noinline function, so that the
// closures are named after it (main.dispatch.func1, ...) and not after main:
//
//   - dispatch: a goroutine closure calls a closure in place, which writes
//     `inflight` (the inner closure is inlined into the goroutine closure);
//     a second goroutine closure reads it.
//   - retry: the same, one level deeper: a closure called in place inside a
//     closure called in place inside a goroutine closure writes `attempts`.
//   - fanOut: a goroutine closure starts a goroutine closure (`go func()`
//     inside `go func()`), which writes `queued`; a sibling reads it.
//   - settle: a named function (not inlined) with a closure called in place
//     inside a closure called in place writes *done (golang/go#71835's
//     shape); drain's goroutine closures call it and read the counter.
//
// Go prints the inlined closures differently per release; see
// samples/README.md for the names each version printed.
package main

import (
	"fmt"
	"sync"
	"time"
)

const step = 30 * time.Millisecond

//go:noinline
func dispatch() {
	inflight := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // worker
		defer wg.Done()
		func() { // claim, called in place
			inflight++
		}()
	}()
	time.Sleep(step)
	go func() { // monitor
		defer wg.Done()
		if inflight > 0 {
			fmt.Println("pipeline: a stage is in flight")
		}
	}()
	wg.Wait()
}

//go:noinline
func retry() {
	attempts := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // retrier
		defer wg.Done()
		func() { // backoff, called in place
			func() { // attempt, called in place
				attempts++
			}()
		}()
	}()
	time.Sleep(step)
	go func() { // reporter
		defer wg.Done()
		if attempts > 0 {
			fmt.Println("pipeline: retried")
		}
	}()
	wg.Wait()
}

//go:noinline
func fanOut() {
	queued := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // spawner
		go func() { // enqueuer, a goroutine of a goroutine
			defer wg.Done()
			queued++
		}()
	}()
	time.Sleep(step)
	go func() { // gauge
		defer wg.Done()
		if queued > 0 {
			fmt.Println("pipeline: jobs are queued")
		}
	}()
	wg.Wait()
}

//go:noinline
func settle(done *int) {
	func() { // outer, called in place
		func() { // inner, called in place
			*done++
		}()
	}()
}

//go:noinline
func drain() {
	settled := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // settler
		defer wg.Done()
		settle(&settled)
	}()
	time.Sleep(step)
	go func() { // checker
		defer wg.Done()
		if settled > 0 {
			fmt.Println("pipeline: settled")
		}
	}()
	wg.Wait()
}

func main() {
	fmt.Println("pipeline: starting")
	dispatch()
	retry()
	fanOut()
	drain()
	fmt.Println("pipeline: done")
}
