// catalog: case 4, a race on a generic type, cache.Store[string, int].
//
// A loader goroutine calls Set, then (ordered by time.Sleep only) a request
// goroutine calls Get.
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/catalog/cache"
)

func main() {
	fmt.Println("catalog: starting")
	c := cache.New[string, int]()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.Set("sku-1", 1999) }() // loader
	time.Sleep(30 * time.Millisecond)
	go func() { // request
		defer wg.Done()
		_, n := c.Get("sku-1")
		fmt.Printf("catalog: get sku-1 sets=%d\n", n)
	}()
	wg.Wait()
	fmt.Println("catalog: done")
}
