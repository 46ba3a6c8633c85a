B
Identity:0J„«t?½G5=