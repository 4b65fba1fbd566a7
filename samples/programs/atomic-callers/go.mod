module soak.example/meter

go 1.19
