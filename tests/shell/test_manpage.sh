#!/bin/sh
# doc/retort.1 documents the shell: every backslash command \? lists, with
# the argument words it names (on|off|auto, mermaid|dot, \o's |COMMAND),
# and every option --help lists; and it renders without troff warnings.
#   test_manpage.sh RETORT SRCDIR
RETORT=$1
man="${2:-.}/doc/retort.1"
. "$(dirname "$0")/lib.sh"

help=$("$RETORT" --norc -c '\?')
check "\\? lists the commands" "yes" \
  "$(printf '%s\n' "$help" | grep -q '^  \\dt ' && echo yes)"

# the paragraph of the man page whose tag line names \NAME (roff writes
# a backslash as \e), up to the next tag or section
entry() {
  awk -v cmd="$1" '
    /^\.(TP|SH|PP)/ { if (on) exit; tag = 1; next }
    tag { tag = 0
          line = $0; gsub(/"/, "", line)
          if (index(line " ", "\\e" cmd " ") > 0) on = 1 }
    on { print }' "$man"
}

missing=""
args_missing=""
for cmd in $(printf '%s\n' "$help" | sed -n 's/^  \\\([^ ]*\).*/\1/p'); do
  text=$(entry "$cmd")
  if [ -z "$text" ]; then
    missing="$missing \\$cmd"
    continue
  fi
  # the words of its arguments in \?, such as on|off|auto, are in its entry
  # (\? prints "\NAME ARGS" in its first 22 columns)
  words=$(printf '%s\n' "$help" | cut -c3-24 | awk -v c="\\\\$cmd" '$1 == c { print $2 }' |
    tr -d '[]' | tr '|' '\n' | grep '^[a-z][a-z]*$')
  for w in $words; do
    printf '%s\n' "$text" | grep -q "$w" || args_missing="$args_missing \\$cmd:$w"
  done
done
check "every command \\? lists has an entry in retort.1" "" "$missing"
check "and the words of its arguments" "" "$args_missing"
check "\\o |COMMAND has an entry of its own" "yes" \
  "$(entry 'o |' | grep -q 'standard input' && echo yes)"

missing=""
for opt in $("$RETORT" --help | sed -n 's/^  \(-[-a-z]*\).*/\1/p'); do
  roff=$(printf '%s' "$opt" | sed 's/-/\\-/g')
  grep -E '^\.B[IR]? ' "$man" | grep -q -F -- "$roff" || missing="$missing $opt"
done
check "every option --help lists is in retort.1" "" "$missing"

for topic in DATABASE_URL .retortrc.lua PAGER EDITOR XDG_STATE_HOME \
  '\ehistory' '***' 'background'; do
  grep -q -F -- "$topic" "$man" || missing="$missing $topic"
done
check "the environment, files, history masking and the refresh are described" "" "$missing"

if command -v groff >/dev/null 2>&1; then
  check "retort.1 renders without warnings" "" \
    "$(groff -ww -z -man "$man" 2>&1)"
fi
finish
