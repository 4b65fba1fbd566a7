// pricing: a race in a closure of a generic function, pricing.Collect[string].
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/pricing/pricing"
)

func main() {
	fmt.Println("pricing: starting")
	t := &pricing.Tally{}
	wait := pricing.Collect(t, []string{"sku-1", "sku-2"})
	time.Sleep(30 * time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		fmt.Printf("pricing: quotes=%d\n", pricing.Quotes(t))
	}()
	wg.Wait()
	wait()
	fmt.Println("pricing: done")
}
