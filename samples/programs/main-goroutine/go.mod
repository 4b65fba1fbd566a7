module soak.example/configd

go 1.19
