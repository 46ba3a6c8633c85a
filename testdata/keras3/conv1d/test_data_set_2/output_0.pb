B
Identity:0Jˆ&>