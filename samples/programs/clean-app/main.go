// frontdoor: an ordinary service log WITHOUT any race.
//
// WHY: a control sample. It is built and run with -race like the others but
// has no data race, so it must yield zero reports. It prints ~300 lines of
// everyday application logging (request lines, cache stats, a warning or
// two) from several goroutines that synchronise properly (mutex + channels).
// The request mix comes from a fixed-seed PRNG so the structure of the log is
// the same every run (only timestamps change). derive.mjs also uses its
// lines as "foreign" lines and as the restart after an orphan marker.
package main

import (
	"log"
	"math/rand"
	"os"
	"sync"
)

type stats struct {
	mu     sync.Mutex
	served int
	errors int
}

func (s *stats) record(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served++
	if status >= 500 {
		s.errors++
	}
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetOutput(os.Stdout)
	log.Printf("frontdoor starting pid=%d version=2.4.1 listen=:8443", os.Getpid())
	log.Printf("config loaded file=/etc/frontdoor/config.yaml routes=6")

	paths := []string{"/", "/healthz", "/api/v1/orders", "/api/v1/users/me", "/static/app.js", "/api/v1/cart"}
	rng := rand.New(rand.NewSource(4242))
	type req struct {
		id     int
		path   string
		status int
		ms     int
	}
	reqs := make([]req, 280)
	for i := range reqs {
		st := 200
		switch r := rng.Intn(100); {
		case r < 3:
			st = 503
		case r < 8:
			st = 404
		case r < 12:
			st = 304
		}
		reqs[i] = req{i + 1, paths[rng.Intn(len(paths))], st, 1 + rng.Intn(40)}
	}

	st := &stats{}
	work := make(chan req)
	var wg sync.WaitGroup
	var logMu sync.Mutex // keeps each worker's lines in request order
	next := 1
	cond := sync.NewCond(&logMu)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := range work {
				st.record(r.status)
				logMu.Lock()
				for next != r.id {
					cond.Wait()
				}
				log.Printf("level=info msg=\"request served\" worker=%d req=%06d method=GET path=%s status=%d duration=%dms", w, r.id, r.path, r.status, r.ms)
				if r.status == 503 {
					log.Printf("level=warn msg=\"upstream unavailable, retrying\" req=%06d upstream=orders-api attempt=1", r.id)
				}
				if r.id%50 == 0 {
					log.Printf("level=info msg=\"cache stats\" hits=%d misses=%d evictions=0", r.id*7, r.id/3)
				}
				next++
				cond.Broadcast()
				logMu.Unlock()
			}
		}(w)
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
	st.mu.Lock()
	log.Printf("level=info msg=\"shutting down\" served=%d errors=%d", st.served, st.errors)
	st.mu.Unlock()
}
