// quota: case 7, atomic.AddInt64 against a plain read.
//
// A worker goroutine takes a token (atomic), then, 30 ms later, a reporter
// goroutine reads the counter with a plain load.
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/quota/limiter"
)

func main() {
	fmt.Println("quota: starting")
	b := &limiter.Bucket{}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.Take() }() // worker
	time.Sleep(30 * time.Millisecond)
	go func() { // reporter
		defer wg.Done()
		fmt.Printf("quota: used=%d\n", b.Used())
	}()
	wg.Wait()
	fmt.Println("quota: done")
}
