B
Identity:0J>5>