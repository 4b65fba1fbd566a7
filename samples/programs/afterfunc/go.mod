module soak.example/leases

go 1.19
