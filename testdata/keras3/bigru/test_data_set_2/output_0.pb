B
Identity:0J^¤ê<