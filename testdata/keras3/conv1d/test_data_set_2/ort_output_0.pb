B
Identity:0J‰&>