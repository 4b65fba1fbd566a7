module soak.example/batcher

go 1.19
