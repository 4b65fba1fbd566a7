module soak.example/frontdoor

go 1.19
