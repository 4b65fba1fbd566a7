// Package session is the racy heart of soakd.
//
// WHY: this file is what regenerate.sh copies into two build directories
// (builds/a1/svc and builds/b7/svc) and, for the b7 copy, shifts down by
// inserting comment lines at the top and builds with -trimpath. The two
// logs then show the SAME bugs with different file paths and line numbers.
// It holds two unrelated bugs:
//   - Put/Lookup share the map without a lock (a map race: Go prints it
//     twice, once for the map header and once for the bucket);
//   - Touch/IdleFor share the lastActive field without a lock.
package session

import "time"

// Store keeps session tokens. It was meant to be guarded by a mutex that
// nobody ever added.
type Store struct {
	tokens     map[string]string
	lastActive int64
}

func NewStore() *Store {
	return &Store{tokens: make(map[string]string)}
}

// Put records a token (map write).
func (s *Store) Put(user, token string) {
	s.tokens[user] = token
}

// Lookup returns a token (map read).
func (s *Store) Lookup(user string) (string, bool) {
	t, ok := s.tokens[user]
	return t, ok
}

// Touch marks the store as active (plain field write).
func (s *Store) Touch(now time.Time) {
	s.lastActive = now.UnixNano()
}

// IdleFor reports how long the store has been idle (plain field read).
func (s *Store) IdleFor(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - s.lastActive)
}
