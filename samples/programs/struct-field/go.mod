module soak.example/presence

go 1.19
