// configd: case 8, a race involving the main goroutine.
//
// A worker goroutine reads the level, then, 30 ms later, main reloads the
// configuration and writes it: "Write at ... by main goroutine:" and
// "Previous read at ... by goroutine N:".
package main

import (
	"fmt"
	"sync"
	"time"

	"soak.example/configd/config"
)

// reload must not print before SetLevel: writing to os.Stdout takes the
// file's internal lock, which would order main after the worker's print and
// hide the race.
func reload(c *config.Config) {
	c.SetLevel("debug")
	fmt.Println("configd: SIGHUP received, configuration reloaded")
}

func main() {
	fmt.Println("configd: starting")
	c := config.New("info")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // worker
		defer wg.Done()
		fmt.Printf("configd: worker level=%s\n", c.Level())
	}()
	time.Sleep(30 * time.Millisecond)
	reload(c)
	wg.Wait()
	fmt.Println("configd: done")
}
