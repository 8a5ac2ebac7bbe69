#!/bin/sh
# The REPL at a real terminal (tmux): continuation prompt, expression
# printing, Ctrl-C clearing the line, Ctrl-D exiting, history across runs.
#   test_repl.sh RETORT
RETORT=$1
if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed"
  exit 77
fi
. "$(dirname "$0")/lib.sh"
export TERM=xterm

# type lines literally (tmux would read "end" as the End key), each with
# Enter, then wait until a new main prompt shows (the input ran)
typeline() {
  alive
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
  # a server still shutting down after the last session ended (Ctrl-D)
  # would take the new session down with it: start from a fresh one
  kill_tmux
  T new-session -d -s rt -x 100 -y 30 "$RETORT --norc"
  wait_last "retort>" || { echo "retort did not show its prompt:"; screen; }
}

start
T send-keys -t rt -l "1 +"
T send-keys -t rt Enter
wait_last "   ...>"
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
kill_tmux

finish
