module soak.example/pricing

go 1.19
