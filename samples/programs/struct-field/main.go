// presence: case 1, a race on a struct field.
//
// A "handoff" goroutine writes Store.owner, then (30 ms later, ordered only by
// time.Sleep, which the race detector does not treat as synchronisation) a
// "heartbeat" goroutine reads it. Expected: exactly one report,
// "Read at ... Previous write at ...".
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/presence/session"
)

func main() {
	fmt.Println("presence: starting")
	s := session.New("alice")
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // handoff
		defer wg.Done()
		s.Put("node-7")
	}()
	time.Sleep(30 * time.Millisecond)
	go func() { // heartbeat
		defer wg.Done()
		fmt.Printf("presence: heartbeat owner=%s\n", s.Lookup())
	}()
	wg.Wait()
	fmt.Println("presence: done")
}
