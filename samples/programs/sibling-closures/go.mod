module soak.example/mailer

go 1.19
