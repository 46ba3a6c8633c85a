B
Identity:0Jé=