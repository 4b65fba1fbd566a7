// Package config holds the live configuration.
//
// WHY (case 8, the main goroutine takes part): SetLevel is called from the
// main goroutine (a reload), so its access is printed "by main goroutine:"
// and has no "created at" section; Level is read by a worker goroutine.
package config

type Config struct {
	level string
}

func New(level string) *Config { return &Config{level: level} }

// SetLevel replaces the log level (plain write).
func (c *Config) SetLevel(l string) { c.level = l }

// Level returns the log level (plain read).
func (c *Config) Level() string { return c.level }
