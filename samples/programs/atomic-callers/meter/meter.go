// Package meter counts hits.
//
// WHY (sync/atomic, the caller dropped): Hit is NOT inlined and adds with
// atomic.AddInt64; Hits reads the same field with a plain load. The race
// detector prints the atomic side as sync/atomic.AddInt64 twice and then
// Hit's CALLER, not Hit: whichever goroutine closure called Hit takes its
// place, so the same bug shows different frames below the atomic op.
package meter

import "sync/atomic"

type Counter struct{ hits int64 }

// Hit records one hit (atomic write).
//
//go:noinline
func (c *Counter) Hit() { atomic.AddInt64(&c.hits, 1) }

// Hits returns the number of hits (plain read: the bug).
func (c *Counter) Hits() int64 { return c.hits }
