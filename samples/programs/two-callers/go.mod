module soak.example/ledger

go 1.19
