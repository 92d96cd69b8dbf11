#!/bin/sh
# The tools refuse unknown and malformed flags with a message naming the flag (exit 2) and print
# their usage on --help (stdout, exit 0). Usage: cli_flags_test.sh <hotline-train> <hotline-dev-broker>
train="$1"
broker="$2"
fail=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect <exit code> <text on stderr, or "" to check stdout has "usage:"> <command...>
expect() {
  want_rc="$1"
  want="$2"
  shift 2
  "$@" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" != "$want_rc" ]; then
    echo "FAIL: $* exited $rc, want $want_rc; stderr: $(cat "$err")"
    fail=1
    return
  fi
  if [ -n "$want" ]; then
    if ! grep -qF -- "$want" "$err"; then
      echo "FAIL: $*: stderr lacks '$want': $(cat "$err")"
      fail=1
    fi
  elif ! grep -q '^usage:' "$out"; then
    echo "FAIL: $*: no usage on stdout: $(cat "$out")"
    fail=1
  fi
  echo "ok: $*"
}

expect 2 "--threshold: 'abc' is not a number" "$train" evaluate --threshold abc
expect 2 "--threshold: 7 is out of range [0, 1]" "$train" evaluate --model m --input i --threshold 7
expect 2 "--seed: '-1x' is not an integer" "$train" train --input a.csv --output m --seed -1x
expect 2 "--holdout: 'lots' is not a number" "$train" train --input a.csv --output m --holdout lots
expect 2 "--test-fraction: 'half' is not a number" "$train" split --input a --train-out b --test-out c --test-fraction half
expect 2 "--bogus: unknown flag" "$train" bench --bogus 1
expect 2 "--input: is required" "$train" train --output m
expect 2 "--model: needs a value" "$train" evaluate --model
expect 2 "unknown command 'frobnicate'" "$train" frobnicate
expect 2 "unexpected argument 'stray'" "$train" export-corrections stray
expect 0 "" "$train" --help
expect 0 "" "$train" evaluate --help
expect 0 "" "$train" train --seed 5 --help
expect 2 "--partitions: 'x' is not an integer" "$broker" --partitions x
expect 2 "--brokers: 17 is out of range [1, 16]" "$broker" --brokers 17
expect 2 "--nope: unknown flag" "$broker" --nope
expect 0 "" "$broker" --help
exit $fail
