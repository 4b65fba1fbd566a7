module soak.example/quota

go 1.19
