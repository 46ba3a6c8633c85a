B
Identity:0J®…ı=