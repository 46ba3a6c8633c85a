B
Identity:0Jìˆ=