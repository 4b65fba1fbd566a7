// registry: case 2, a race on a map (one bug, two reports).
//
// A watcher goroutine adds "billing", then a request goroutine resolves
// "billing". Ordered with time.Sleep only, so the detector always sees both.
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/registry/routes"
)

func main() {
	fmt.Println("registry: starting")
	t := routes.NewTable()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // watcher
		defer wg.Done()
		t.Add("billing", "10.0.0.7:9000")
	}()
	time.Sleep(30 * time.Millisecond)
	go func() { // request
		defer wg.Done()
		addr, ok := t.Resolve("billing")
		fmt.Printf("registry: resolve billing -> %s (%v)\n", addr, ok)
	}()
	wg.Wait()
	fmt.Println("registry: done")
}
