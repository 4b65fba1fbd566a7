// inventory: a race inside the body of a range-over-func loop (Go 1.23+;
// go.mod says go 1.23, so older toolchains refuse to build it).
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/inventory/stock"
)

func main() {
	fmt.Println("inventory: starting")
	s := stock.New(3, 4)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); stock.Restock(s) }() // restocker
	time.Sleep(30 * time.Millisecond)
	go func() { // counter
		defer wg.Done()
		fmt.Printf("inventory: count=%d\n", stock.Count(s))
	}()
	wg.Wait()
	fmt.Println("inventory: done")
}
