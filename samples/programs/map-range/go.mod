module soak.example/directory

go 1.19
