#!/bin/sh
# Prints the README's table of the exercise runs from their metrics.json
# files under docs/results/exercises/<config>/ (written by
# `birnn train --config <config> --out docs/results/exercises/<config>`),
# with the command that regenerates each. Usage: scripts/results/exercises_table.sh
set -eu
cd "$(dirname "$0")/../.."
echo '| config | dataset | num_words | maxlen | split | n | test accuracy | epochs run | command |'
echo '|---|---|---|---|---|---|---|---|---|'
for m in docs/results/exercises/*/metrics.json; do
	d=$(dirname "$m")
	c=$(basename "$d")
	data=$(jq -r .dataset "$m")
	case $data in imdb) dir=../shared/data/imdb ;; *) dir=../shared/data/$data ;; esac
	epochs=$(jq '.loss | length' "$d/history.json")
	jq -r --arg c "$c" --arg e "$epochs" --arg cmd "birnn train --config $c --data $dir --out $d" \
		'"| \($c) | \(.dataset) | \(.num_words) | \(.maxlen) | \(.split) | \(.n) | \(.accuracy * 10000 | round / 10000) | \($e) | `\($cmd)` |"' "$m"
done
