B
Identity:0J(Ã=