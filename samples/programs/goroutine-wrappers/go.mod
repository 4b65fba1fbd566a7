module soak.example/relay

go 1.19
