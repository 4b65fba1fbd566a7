module soak.example/svc

go 1.19
