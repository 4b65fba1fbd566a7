module soak.example/pipeline

go 1.19
