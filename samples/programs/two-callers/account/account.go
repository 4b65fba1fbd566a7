// Package account holds balances.
//
// WHY (case 10): Deposit and Balance race on a.balance. This ONE bug is
// reached through two different call paths (package api and package batch),
// so the runtime prints it twice with different stacks below the racing
// functions; run with -reverse the accesses come in the other order.
package account

type Account struct {
	id      string
	balance int64
}

func New(id string) *Account { return &Account{id: id} }

// Deposit adds to the balance (plain read-modify-write).
func (a *Account) Deposit(n int64) { a.balance += n }

// Balance returns the balance (plain read).
func (a *Account) Balance() int64 { return a.balance }
