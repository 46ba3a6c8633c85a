B
Identity:0J Ü'_="_=!_=Ü_=Ü_=C‘H?QÔ^=AIi=