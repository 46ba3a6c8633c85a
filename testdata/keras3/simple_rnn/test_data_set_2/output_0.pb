B
Identity:0Jŭ=