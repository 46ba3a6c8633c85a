B
Identity:0JB5>