// Package index maps user names to ids.
//
// WHY (a range over a map against a map write): Put writes the map and
// Names ranges over it without a lock. The reading side starts in the
// runtime's map iterator: runtime.mapiterinit up to go1.23,
// runtime.mapIterStart from go1.24 (swiss maps, whose code lives in
// internal/runtime/maps).
package index

type Index struct {
	ids map[string]int
}

func New() *Index { return &Index{ids: map[string]int{"root": 0}} }

// Put adds a user (map write).
func (x *Index) Put(name string, id int) {
	x.ids[name] = id
}

// Names lists the users (range over the map).
func (x *Index) Names() []string {
	var names []string
	for name := range x.ids {
		names = append(names, name)
	}
	return names
}
