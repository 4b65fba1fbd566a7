module soak.example/ticker

go 1.19
