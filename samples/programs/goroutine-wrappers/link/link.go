// Package link forwards frames. Its methods are started by the compiler's
// goroutine and defer wrappers (see main.go).
package link

type Link struct {
	sent   int
	closed string
}

// Forward counts n frames (plain read-modify-write of l.sent).
func (l *Link) Forward(n int) { l.sent += n }

// Sent reads the counter that Forward writes.
func (l *Link) Sent() int { return l.sent }

// Serve handles one session and records why it ended through a deferred
// call with an argument (the compiler wraps it: deferwrapN in go1.21+).
//
//go:noinline
func (l *Link) Serve(reason string) {
	defer l.markClosed(reason)
	l.sent++
}

//go:noinline
func (l *Link) markClosed(reason string) { l.closed = reason }

// Closed reads what markClosed writes.
func (l *Link) Closed() string { return l.closed }
