B
Identity:0J@±`Œ=êsn?­ö¦=+!k?J­´=Wji?0t=þ¼p?0t=þ¼p?`Zé=´Ôb?KoW?×B">ìë>Å]?