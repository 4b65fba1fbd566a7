// Package session tracks which node currently owns a user's presence.
//
// WHY (case 1, race on a struct field): Put writes the owner field and
// Lookup reads it, with no lock. The report has only application frames
// on top: soak.example/presence/session.(*Store).Put / .Lookup.
package session

// Store remembers the node that owns the presence record.
type Store struct {
	user  string
	owner string
}

func New(user string) *Store { return &Store{user: user} }

// Put moves the record to another node (plain write of s.owner).
func (s *Store) Put(node string) {
	s.owner = node
}

// Lookup returns the owning node (plain read of s.owner).
func (s *Store) Lookup() string {
	return s.owner
}
