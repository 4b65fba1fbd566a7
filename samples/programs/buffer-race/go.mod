module soak.example/ingest

go 1.19
