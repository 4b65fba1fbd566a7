module soak.example/telemetry

go 1.19
