// billing: closures of small helpers that the compiler inlines into the
// goroutine closures calling them, two bugs.
//
//   - charge (inlinable) writes *total from a closure called in place;
//     invoice's first goroutine closure calls charge, its second reads total.
//   - refund (inlinable) writes *credits from a closure called in place
//     inside a closure called in place; settleUp's goroutine closures call
//     it and read credits.
//
// Once inlined, the helper's closures are renamed after the goroutine
// closure they were inlined into, differently per Go release (see
// samples/README.md). invoice and settleUp are //go:noinline so that the
// goroutine closures are named after them, not after main.
package main

import (
	"fmt"
	"sync"
	"time"
)

const step = 30 * time.Millisecond

func charge(total *int) {
	func() { // add, called in place
		*total += 5
	}()
}

func refund(credits *int) {
	func() { // validate, called in place
		func() { // apply, called in place
			*credits++
		}()
	}()
}

//go:noinline
func invoice() {
	total := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // biller
		defer wg.Done()
		charge(&total)
	}()
	time.Sleep(step)
	go func() { // printer
		defer wg.Done()
		if total > 0 {
			fmt.Println("billing: invoice has charges")
		}
	}()
	wg.Wait()
}

//go:noinline
func settleUp() {
	credits := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // refunder
		defer wg.Done()
		refund(&credits)
	}()
	time.Sleep(step)
	go func() { // auditor
		defer wg.Done()
		if credits > 0 {
			fmt.Println("billing: credits issued")
		}
	}()
	wg.Wait()
}

func main() {
	fmt.Println("billing: starting")
	invoice()
	settleUp()
	fmt.Println("billing: done")
}
