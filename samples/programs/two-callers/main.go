// ledger: case 10, the same race reached through two call paths, in either
// order.
//
// Round 1 races api.HandleStatement -> Balance against
// api.HandleTransfer -> Deposit on account A; round 2 races batch.Report ->
// Balance against batch.ApplyInterest -> Deposit on account B. Two different
// accounts are used on purpose: the race runtime suppresses a second report
// on an address it has already reported (suppress_equal_addresses), and it
// suppresses a report whose two stacks it has already reported
// (suppress_equal_stacks). Different stacks AND addresses => two reports of
// the same bug (Deposit vs Balance).
//
// Default order: the reader runs first ("Write at ... Previous read at").
// With -reverse the writer runs first ("Read at ... Previous write at").
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"

	"soak.example/ledger/account"
	"soak.example/ledger/api"
	"soak.example/ledger/batch"
)

const step = 30 * time.Millisecond

// pair runs first, then (ordered by time.Sleep only) second.
func pair(first, second func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); first() }()
	time.Sleep(step)
	go func() { defer wg.Done(); second() }()
	wg.Wait()
}

func main() {
	reverse := flag.Bool("reverse", false, "run the writer before the reader")
	flag.Parse()
	fmt.Printf("ledger: starting reverse=%v\n", *reverse)

	a, b := account.New("A"), account.New("B")

	read1 := func() { _ = api.HandleStatement(a) }
	write1 := func() { api.HandleTransfer(a, 100) }
	read2 := func() { _ = batch.Report(b) }
	write2 := func() { batch.ApplyInterest(b) }

	if *reverse {
		pair(write1, read1)
		fmt.Println("ledger: http round done")
		pair(write2, read2)
	} else {
		pair(read1, write1)
		fmt.Println("ledger: http round done")
		pair(read2, write2)
	}
	fmt.Println("ledger: nightly round done")
}
