#!/bin/sh
# Politeness grader: 1 when the model's reply says "please" or "thank", else 0.
# rft writes the batch with one sample per line inside the JSON list, so sed and grep suffice.
set -eu
printf '['
sep=''
while IFS= read -r line; do
  case "$line" in '['|']') continue ;; esac
  id=$(printf '%s\n' "$line" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  reply=$(printf '%s\n' "$line" | sed -n 's/.*"role":"assistant","content":"\([^"]*\)".*/\1/p')
  if printf '%s' "$reply" | grep -qiE 'please|thank'; then score=1; else score=0; fi
  printf '%s{"id":"%s","aggregate_reward_score":%s}' "$sep" "$id" "$score"
  sep=','
done
printf ']\n'
