#!/usr/bin/env bash
# Benchmark (not a test): dispatch's classifier against Debian's fastText on the same held-out
# split of the real labelled citizen messages in ../shared/data (never copied into the repo).
#
#   tests/bench/classifier_vs_fasttext.sh [BUILD_DIR]
#
# Split: duplicates by text dropped, stratified 80/20, seed 7; ours holds out 20 % of its
# training part to choose the auto-dispatch threshold for 98 % precision. fastText: characters
# as tokens (Chinese has no spaces), word bigrams, 25 epochs, lr 0.5, dim 100.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
data=$repo/../shared/data/teddycup2020_c/messages_labeled.csv
[ -f "$data" ] || { echo "SKIP: $data not found (the real data stays outside the repo)"; exit 0; }
command -v fasttext >/dev/null || "$repo/tools/install-deps" fasttext
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
train=$build/tools/hotline-train

$train split --input "$data" --test-fraction 0.2 --seed 7 --train-out "$work/train.csv" --test-out "$work/test.csv"
$train train --input "$work/train.csv" --output "$work/model.bin" --version bench --target-precision 0.98
echo; echo "== ours (held-out test set)"
$train evaluate --model "$work/model.bin" --input "$work/test.csv"
$train bench --model "$work/model.bin" --input "$work/test.csv"

python3 - "$work" <<'PY'
import csv, sys
w = sys.argv[1]
for name in ("train", "test"):
    with open(f"{w}/{name}.csv") as f, open(f"{w}/{name}.ft", "w") as o:
        for r in csv.DictReader(f):
            o.write("__label__" + r["label"] + " " + " ".join(c for c in r["text"] if not c.isspace()) + "\n")
PY
echo; echo "== fastText (same split)"
start=$(date +%s.%N)
fasttext supervised -input "$work/train.ft" -output "$work/ft" -wordNgrams 2 -epoch 25 -lr 0.5 -dim 100 -verbose 0
echo "trained in $(echo "$(date +%s.%N) - $start" | bc) s"
fasttext test "$work/ft.bin" "$work/test.ft"
# Accuracy of fastText's confident predictions, at the probability that gives it the same
# coverage as ours would be a different operating point; report its curve instead.
fasttext predict-prob "$work/ft.bin" "$work/test.ft" 1 >"$work/pred.txt"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
gold = [l.split(" ", 1)[0] for l in open(f"{w}/test.ft")]
pred = [l.split() for l in open(f"{w}/pred.txt")]
labels = sorted(set(gold))
f1s = []
for lab in labels:
    tp = sum(1 for g, p in zip(gold, pred) if p[0] == lab and g == lab)
    fp = sum(1 for g, p in zip(gold, pred) if p[0] == lab and g != lab)
    fn = sum(1 for g, p in zip(gold, pred) if p[0] != lab and g == lab)
    pr = tp / (tp + fp) if tp + fp else 0; rc = tp / (tp + fn) if tp + fn else 0
    f1s.append(2 * pr * rc / (pr + rc) if pr + rc else 0)
acc = sum(1 for g, p in zip(gold, pred) if p[0] == g) / len(gold)
print(f"accuracy {acc:.4f}\nmacro-F1 {sum(f1s) / len(f1s):.4f}")
print("threshold  coverage  accuracy")
for th in (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98):
    sel = [(g, p) for g, p in zip(gold, pred) if float(p[1]) >= th]
    ok = sum(1 for g, p in sel if p[0] == g)
    print(f"  {th:5.2f}     {100 * len(sel) / len(gold):5.1f}%    {100 * ok / len(sel) if sel else 0:5.1f}%")
PY
n=$(wc -l <"$work/test.ft")
start=$(date +%s%N)
for _ in 1 2 3; do fasttext predict "$work/ft.bin" "$work/test.ft" >/dev/null; done
end=$(date +%s%N)
echo "fastText predict incl. model load, per text: $(( (end - start) / 3 / n / 1000 )) us (batch of $n, 3 runs)"
