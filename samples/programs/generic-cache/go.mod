module soak.example/catalog

go 1.19
