// Package batch is the nightly-job caller of the racy account methods.
package batch

import "soak.example/ledger/account"

// ApplyInterest credits interest (calls Deposit).
func ApplyInterest(a *account.Account) {
	a.Deposit(3)
}

// Report totals an account (calls Balance).
func Report(a *account.Account) int64 {
	return a.Balance()
}
