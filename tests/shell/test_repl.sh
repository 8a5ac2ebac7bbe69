#!/bin/sh
# The REPL at a real terminal (tmux): continuation prompt, expression
# printing, Ctrl-C clearing the line, Ctrl-D exiting, history across runs.
#   test_repl.sh RETORT
RETORT=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
passed=0
failed=0
tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
T() { tmux -S "$sock" "$@"; }
cleanup() { T kill-server 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export HOME="$tmp" XDG_STATE_HOME="$tmp/state" TERM=xterm
# sanitizer reports (sanitized builds) go to files that fail the test
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$tmp/san"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$tmp/san"

check() { # name expected actual
  if [ "$2" = "$3" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
  fi
}

screen() { T capture-pane -p -t rt | sed -e 's/[[:space:]]*$//' | sed -e '/^$/d'; }

# wait until the last non-empty screen line is $1 (up to 5 s)
wait_last() {
  i=0
  while [ $i -lt 50 ]; do
    [ "$(screen | tail -1)" = "$1" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# how many main prompts the whole pane history shows
prompts() { T capture-pane -p -S - -t rt | grep -c '^retort>'; }

# type lines literally (tmux would read "end" as the End key), each with
# Enter, then wait until a new main prompt shows (the input ran)
typeline() {
  before=$(prompts)
  for l in "$@"; do
    T send-keys -t rt -l "$l"
    T send-keys -t rt Enter
  done
  i=0
  while [ "$(prompts)" -le "$before" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
}

start() {
  T new-session -d -s rt -x 100 -y 30 "$RETORT --norc"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
}

start
T send-keys -t rt -l "1 +"
T send-keys -t rt Enter
wait_last "...>"
check "continuation prompt" "   ...>" "$(screen | tail -1)"
typeline "1"
wait_last "retort>"
check "continued expression printed" "2" "$(screen | tail -2 | head -1)"

typeline 'print("a", 1.5)'
wait_last "retort>"
check "statement output" "a       1.5" "$(screen | tail -2 | head -1)"

typeline 'error("oops")'
wait_last "retort>"
check "errors print and the REPL goes on" "stdin:1: oops" \
  "$(screen | grep 'oops' | tail -1)"

T send-keys -t rt -l "half typed"
wait_last "retort> half typed"
before=$(prompts)
T send-keys -t rt C-c
i=0
while [ "$(prompts)" -le "$before" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "Ctrl-C clears the line" "retort> half typed^C" \
  "$(screen | tail -2 | head -1)"
typeline 'print("after")'
wait_last "retort>"
check "works after Ctrl-C" "after" "$(screen | tail -2 | head -1)"

typeline "for i = 1, 2 do" "print(i * 10)" "end"
wait_last "retort>"
check "multi-line block" "10
20" "$(screen | tail -3 | head -2)"

T send-keys -t rt C-d
i=0
while T has-session -t rt 2>/dev/null && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
check "Ctrl-D exits" "gone" "$(T has-session -t rt 2>/dev/null || echo gone)"
check "history file written" "yes" \
  "$([ -s "$tmp/state/retort/history" ] && echo yes)"

# history survives a restart: Up recalls the last entry
start
T send-keys -t rt Up
sleep 0.3
check "history recalled after restart, multi-line entry whole" \
  "for i = 1, 2 do
print(i * 10)
end" "$(screen | tail -3 | sed 's/^retort> //')"
T send-keys -t rt C-c
T kill-server 2>/dev/null

for f in "$tmp"/san.*; do
  [ -e "$f" ] || continue
  failed=$((failed + 1))
  echo "FAIL sanitizer report $f:"
  cat "$f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
