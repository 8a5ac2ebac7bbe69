# lib.sh -- what the shell tests share; sourced by tests/shell/test_*.sh.
#
# A temporary HOME, sanitizer reports sent to files that fail the test,
# check() to compare, finish() to report; and for the tmux tests, T (tmux on
# a private socket) and helpers that read the screen of the session "rt".

passed=0
failed=0
tmp=$(mktemp -d)
sock="$tmp/tmux.sock"
T() { tmux -S "$sock" "$@"; }
cleanup() { tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$tmp"; }
# stop the tmux server, and take a fresh socket for the next one: a new
# session at once on the socket of a server still exiting can fail with
# "server exited unexpectedly"
ntmux=0
kill_tmux() {
  T kill-server 2>/dev/null
  ntmux=$((ntmux + 1))
  sock="$tmp/tmux$ntmux.sock"
}
trap cleanup EXIT
export HOME="$tmp" XDG_STATE_HOME="$tmp/state"
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

# a shell that exited while the test waits for it fails the test at once,
# with its sanitizer reports, instead of every later check timing out
alive() {
  T has-session -t rt 2>/dev/null && return 0
  failed=$((failed + 1))
  echo "FAIL the shell exited while the test was waiting for it"
  finish
  exit 1
}

# the screen without trailing blanks and empty lines
screen() { T capture-pane -p -t rt | sed -e 's/[[:space:]]*$//' | sed -e '/^$/d'; }

# wait until the last non-empty screen line is $1 (up to 5 s)
wait_last() {
  i=0
  while [ $i -lt 50 ]; do
    alive
    [ "$(screen | tail -1)" = "$1" ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# wait until a screen line matches the grep pattern $1 (up to 5 s)
wait_grep() {
  i=0
  while [ $i -lt 50 ]; do
    alive
    screen | grep -q -- "$1" && return 0
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# the screen lines after the last line starting with $1, up to the prompt
after() {
  screen | P="$1" awk 'index($0, ENVIRON["P"]) == 1 { out = ""; on = 1; next }
    on && index($0, "retort>") != 1 { out = out $0 "\n" } END { printf "%s", out }'
}

# clear the screen (Ctrl-L) and the scrollback, so that later waits count
# only what comes next; waits until the shell has really redrawn a lone
# prompt, since a clear that lands after the history is dropped would push
# the old screen back into it (and the prompt count with it)
clear_screen() {
  T send-keys -t rt C-l
  i=0
  while [ "$(screen | wc -l)" -gt 1 ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  T clear-history -t rt
}

# how many main prompts the pane shows, history included
prompts() { T capture-pane -p -S - -t rt | grep -c '^retort>'; }

# how many prompts, main or continuation, the pane shows, history included
any_prompts() { T capture-pane -p -S - -t rt | grep -c '^retort>\|^   \.\.\.>'; }

# sanitizer reports count as failures; the closing line; the exit status
finish() {
  for f in "$tmp"/san.*; do
    [ -e "$f" ] || continue
    failed=$((failed + 1))
    echo "FAIL sanitizer report $f:"
    cat "$f"
  done
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# type a line and Enter, then wait for the next prompt: the main one, or
# the continuation prompt when the line leaves a statement unfinished
enter() {
  alive
  before=$(any_prompts)
  case $1 in
  *\;) # tmux takes a final `;` for a command separator: send it as a byte
    T send-keys -t rt -l "${1%;}"
    T send-keys -t rt -H 3b
    ;;
  *) T send-keys -t rt -l "$1" ;;
  esac
  T send-keys -t rt Enter
  i=0
  while [ "$(any_prompts)" -le "$before" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
}
