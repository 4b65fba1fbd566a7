// mailer: two different bugs between closures of ONE function.
//
// deliver starts four goroutine closures: the sender writes `sent`, the
// stats reader reads `sent` (bug 1); the bouncer writes `bounced`, the alert
// reads `bounced` (bug 2). The two bugs differ only in which closures of
// deliver race, so their names (main.deliver.func1..func4) are all that
// tells them apart.
package main

import (
	"fmt"
	"sync"
	"time"
)

const step = 30 * time.Millisecond

//go:noinline
func deliver() {
	sent, bounced := 0, 0
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { // sender
		defer wg.Done()
		sent++
	}()
	time.Sleep(step)
	go func() { // stats
		defer wg.Done()
		if sent > 0 {
			fmt.Println("mailer: messages sent")
		}
	}()
	time.Sleep(step)
	go func() { // bouncer
		defer wg.Done()
		bounced++
	}()
	time.Sleep(step)
	go func() { // alert
		defer wg.Done()
		if bounced > 0 {
			fmt.Println("mailer: messages bounced")
		}
	}()
	wg.Wait()
}

func main() {
	fmt.Println("mailer: starting")
	deliver()
	fmt.Println("mailer: done")
}
