// Package cache is a tiny generic cache.
//
// WHY (case 4, race on a generic type): the racing frames are printed with
// the type parameters elided, as soak.example/catalog/cache.(*Store[...]).Set
// and .Get. The racy state is a plain int field (the number of Set calls),
// so the bug prints a single report with application frames on top.
package cache

type Store[K comparable, V any] struct {
	last K
	val  V
	sets int
}

func New[K comparable, V any]() *Store[K, V] {
	return &Store[K, V]{}
}

// Set counts the write (plain write of s.sets, no lock) and remembers the
// entry in fields nobody reads concurrently.
func (s *Store[K, V]) Set(k K, v V) {
	s.sets++
	s.last, s.val = k, v
}

// Get reads the counter while another goroutine may be in Set.
func (s *Store[K, V]) Get(k K) (V, int) {
	var zero V
	_ = k
	return zero, s.sets
}
