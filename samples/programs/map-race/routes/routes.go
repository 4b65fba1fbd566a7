// Package routes maps service names to backend addresses.
//
// WHY (case 2, race on a map): Add writes the map and Resolve reads the same
// key without a lock. Go prints TWO reports for this one bug: the first on
// the map header (runtime.mapaccess2_faststr / runtime.mapassign_faststr on
// top), the second on the value slot in the bucket (only Resolve / Add).
package routes

type Table struct {
	backends map[string]string
}

func NewTable() *Table { return &Table{backends: make(map[string]string)} }

// Add registers a backend (map write).
func (t *Table) Add(service, addr string) {
	t.backends[service] = addr
}

// Resolve returns the backend of a service (map read).
func (t *Table) Resolve(service string) (string, bool) {
	addr, ok := t.backends[service]
	return addr, ok
}
