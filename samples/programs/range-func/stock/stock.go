// Package stock counts items on a shelf.
//
// WHY (range-over-func, Go 1.23+): Restock adds up the items of a
// range-over-func loop; the loop body is compiled into a closure that Go
// names Restock-range1, called by the iterator (Items.func1). Count reads
// the same field without a lock.
package stock

import "iter"

type Shelf struct {
	items []int
	total int
}

func New(items ...int) *Shelf { return &Shelf{items: items} }

// Items yields the quantity of every item.
func (s *Shelf) Items() iter.Seq[int] {
	return func(yield func(int) bool) {
		for _, n := range s.items {
			if !yield(n) {
				return
			}
		}
	}
}

// Restock writes s.total inside the loop body (the race).
func Restock(s *Shelf) {
	for n := range s.Items() {
		s.total += n
	}
}

// Count reads s.total (plain read).
func Count(s *Shelf) int { return s.total }
