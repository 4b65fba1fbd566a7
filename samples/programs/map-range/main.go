// directory: a range over a map races with a map write.
//
// A sync goroutine adds "alice", then (ordered by time.Sleep only) a listing
// goroutine ranges over the map.
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/directory/index"
)

func main() {
	fmt.Println("directory: starting")
	x := index.New()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); x.Put("alice", 1001) }() // sync
	time.Sleep(30 * time.Millisecond)
	go func() { // listing
		defer wg.Done()
		names := x.Names()
		fmt.Printf("directory: %d users\n", len(names))
	}()
	wg.Wait()
	fmt.Println("directory: done")
}
