// Package metrics renders metrics in a text exposition format.
//
// WHY (case 3): Exporter is a different type, in a different package, with
// a different bug, but it races on its own bytes.Buffer through exactly the
// same standard-library calls as audit.Journal (Write, then String).
package metrics

import "bytes"

type Exporter struct {
	buf bytes.Buffer
}

// Emit renders one sample (writes the buffer).
func (e *Exporter) Emit(name string, v int) {
	e.buf.Write([]byte(name + " " + itoa(v) + "\n"))
}

// Snapshot returns the rendered samples (reads the buffer).
func (e *Exporter) Snapshot() string {
	return e.buf.String()
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
