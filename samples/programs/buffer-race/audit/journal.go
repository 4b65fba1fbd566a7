// Package audit buffers audit events before they are flushed.
//
// WHY (case 3): Journal races on its own bytes.Buffer. The top frames of the
// report are standard-library ones (bytes.(*Buffer).Write,
// bytes.(*Buffer).String), IDENTICAL to those of the unrelated bug in
// package metrics: a fingerprint must look past them to the first
// application frame (audit.(*Journal).Append / .Flush).
package audit

import "bytes"

type Journal struct {
	buf bytes.Buffer
}

// Append adds one event (writes the buffer).
func (j *Journal) Append(event string) {
	j.buf.Write([]byte(event + "\n"))
}

// Flush returns what was buffered (reads the buffer).
func (j *Journal) Flush() string {
	return j.buf.String()
}
