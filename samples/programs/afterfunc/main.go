// leases: case 9, a goroutine started by time.AfterFunc.
//
// The timer fires after 10 ms and calls Expire; 40 ms after start a status
// goroutine calls Remaining.
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/leases/lease"
)

func main() {
	fmt.Println("leases: starting")
	t := lease.New(1700000000)
	time.AfterFunc(10*time.Millisecond, func() { t.Expire() })
	time.Sleep(40 * time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // status
		defer wg.Done()
		fmt.Printf("leases: remaining=%d\n", t.Remaining())
	}()
	wg.Wait()
	fmt.Println("leases: done")
}
