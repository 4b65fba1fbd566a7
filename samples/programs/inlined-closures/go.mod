module soak.example/billing

go 1.19
