// soakd is a stand-in for a long-running service that logs ordinary lines
// and, now and then, hits data races (see ../../session).
//
// WHY: used by regenerate.sh for several cases at once:
//   - case 11: the same program built in two directories, one with
//     -trimpath and shifted source lines (soakd-build-a1.log,
//     soakd-build-b7-trimpath.log);
//   - case 12: three process lifetimes appended to one file, with the
//     normal start/stop log lines between them (soakd-restarts.log);
//   - case 14: GORACE=log_path=..., where only the reports go to race.<pid>
//     files and the application lines stay on stderr (gorace-log-path/).
//
// The accesses are ordered with time.Sleep (which is NOT synchronisation for
// the race detector), so the detector sees both accesses every run and
// always in the same order; the WaitGroup only joins at the end.
package main

import (
	"log"
	"os"
	"sync"
	"time"

	"soak.example/svc/session"
)

const step = 30 * time.Millisecond

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.Printf("soakd starting pid=%d version=0.9.3 listen=:8080", os.Getpid())
	store := session.NewStore()
	log.Printf("session store ready shards=1")

	var wg sync.WaitGroup
	wg.Add(4)

	// Bug 1: map write then map read from two request goroutines.
	go func() {
		defer wg.Done()
		store.Put("alice", "tok-1")
		log.Printf("login user=alice status=200")
	}()
	time.Sleep(step)
	go func() {
		defer wg.Done()
		_, ok := store.Lookup("alice")
		log.Printf("lookup user=alice found=%v status=200", ok)
	}()
	time.Sleep(step)

	// Bug 2: the janitor reads lastActive, then a request writes it.
	go func() {
		defer wg.Done()
		idle := store.IdleFor(time.Unix(0, 0))
		log.Printf("janitor idle_check done idle_negative=%v", idle < 0)
	}()
	time.Sleep(step)
	go func() {
		defer wg.Done()
		store.Touch(time.Unix(1700000000, 0))
		log.Printf("request served path=/healthz status=200")
	}()

	wg.Wait()
	log.Printf("soakd shutting down reason=soak-cycle-complete")
}
