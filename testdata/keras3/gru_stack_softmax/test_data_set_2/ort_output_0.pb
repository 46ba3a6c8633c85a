B
Identity:0J‚«t?ÞG5=