B
Identity:0J∞≈o?Ä“Å=