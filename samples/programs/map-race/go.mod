module soak.example/registry

go 1.19
