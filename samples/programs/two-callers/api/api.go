// Package api is the HTTP-facing caller of the racy account methods.
package api

import "soak.example/ledger/account"

// HandleTransfer credits an account (calls Deposit).
func HandleTransfer(a *account.Account, cents int64) {
	a.Deposit(cents)
}

// HandleStatement renders a statement (calls Balance).
func HandleStatement(a *account.Account) int64 {
	return a.Balance()
}
