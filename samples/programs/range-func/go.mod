module soak.example/inventory

go 1.23
