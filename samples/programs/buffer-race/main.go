// ingest: case 3, races on bytes.Buffer in two unrelated types.
//
// First the audit journal bug (Append then Flush), then, 40 ms later, the
// metrics exporter bug (Emit then Snapshot). Each pair is ordered with
// time.Sleep only, so the detector sees both accesses every run.
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/ingest/audit"
	"soak.example/ingest/metrics"
)

func main() {
	fmt.Println("ingest: starting")
	var wg sync.WaitGroup
	wg.Add(4)

	j := &audit.Journal{}
	go func() { defer wg.Done(); j.Append("user=alice action=login") }()
	time.Sleep(30 * time.Millisecond)
	go func() { defer wg.Done(); fmt.Printf("ingest: audit flushed %d bytes\n", len(j.Flush())) }()
	time.Sleep(40 * time.Millisecond)

	e := &metrics.Exporter{}
	go func() { defer wg.Done(); e.Emit("ingest_events_total", 42) }()
	time.Sleep(30 * time.Millisecond)
	go func() { defer wg.Done(); fmt.Printf("ingest: scrape %d bytes\n", len(e.Snapshot())) }()

	wg.Wait()
	fmt.Println("ingest: done")
}
