// batcher: case 5, a race between two closures.
//
// Both goroutines are anonymous functions in main that capture the local
// variable `pending` by reference; there is no named function to blame, so
// the racing frames are main.main.func1 (the producer, pending++) and
// main.main.func2 (the flusher, reading pending).
package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	fmt.Println("batcher: starting")
	pending := 0
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // producer
		defer wg.Done()
		pending++
	}()
	time.Sleep(30 * time.Millisecond)
	go func() { // flusher
		defer wg.Done()
		if pending > 0 {
			fmt.Println("batcher: flushing batch")
		}
	}()
	wg.Wait()
	fmt.Println("batcher: done")
}
