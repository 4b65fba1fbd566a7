package metrics

import (
	"sync"
	"testing"
	"time"
)

// TestCounterSerial passes: it shows ordinary "--- PASS" lines around the
// failing test.
func TestCounterSerial(t *testing.T) {
	c := &Counter{}
	c.Inc()
	c.Inc()
	if got := c.Value(); got != 2 {
		t.Fatalf("Value() = %d, want 2", got)
	}
}

// TestCounterConcurrent races: a goroutine increments, then (ordered by
// time.Sleep only) the test goroutine reads.
func TestCounterConcurrent(t *testing.T) {
	c := &Counter{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.Inc()
	}()
	time.Sleep(30 * time.Millisecond)
	if c.Value() > 1 {
		t.Errorf("Value() > 1")
	}
	wg.Wait()
}

// TestCounterZero passes and runs after the racy test.
func TestCounterZero(t *testing.T) {
	if (&Counter{}).Value() != 0 {
		t.Fatal("zero counter is not zero")
	}
}
