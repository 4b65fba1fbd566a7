// meter: one sync/atomic bug reached from two different goroutine closures.
//
// round starts two goroutine closures 30 ms apart; one calls c.Hit (atomic),
// the other c.Hits (plain read). Round 1 (counter A) lets the first closure
// hit and the second read; round 2 (counter B) swaps the roles, so the
// atomic side's caller is round.func1 in one report and round.func2 in the
// other. Two counters, because the runtime reports an address only once.
// With -reverse the rounds run with the roles swapped (A: read first).
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"

	"soak.example/meter/meter"
)

var seen int64

//go:noinline
func round(c *meter.Counter, hitFirst bool) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // first
		defer wg.Done()
		if hitFirst {
			c.Hit()
		} else {
			seen = c.Hits()
		}
	}()
	time.Sleep(30 * time.Millisecond)
	go func() { // second
		defer wg.Done()
		if hitFirst {
			seen = c.Hits()
		} else {
			c.Hit()
		}
	}()
	wg.Wait()
}

func main() {
	reverse := flag.Bool("reverse", false, "the first goroutine reads, the second hits, in round 1")
	flag.Parse()
	fmt.Printf("meter: starting reverse=%v\n", *reverse)
	a, b := &meter.Counter{}, &meter.Counter{}
	round(a, !*reverse)
	fmt.Println("meter: round A done")
	round(b, *reverse)
	fmt.Printf("meter: round B done, seen=%d\n", seen)
}
