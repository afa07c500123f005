#!/usr/bin/env sh
# Runs the word-count example end to end through the real `toil` CLI and worker processes:
# split a text file, count words in parallel jobs, merge, export; then prints the result.
set -eu
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The run's log outlives the temporary job store, where the run's last line says it is.
log="${TMPDIR:-/tmp}/toil-demo.log"
rm -f "$log"

# Build the CLI (instant once turbo has it cached). The build tool's own output is shown only if it fails.
echo "Building the toil CLI..."
if ! turbo run build --filter=@toil/leader... --output-logs=errors-only >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "demo: the build failed (its output is above)." >&2
  exit 1
fi

echo "Counting the words of examples/word-count/sample.txt in 3 parallel jobs:"
# `toil run` prints the root job's result (the number of words) on stdout; its log goes to stderr.
words="$(node apps/leader/dist/cli.js run examples/word-count/flow.ts --jobStore "$work/jobstore" --logFile "$log" \
  --clean always -- examples/word-count/sample.txt "$work/counts.json" 3)"
echo "The text has $words words. The most frequent:"
node -e 'const c=require(process.argv[1]);for(const [w,n] of Object.entries(c).slice(0,10))console.log(`  ${String(n).padStart(4)}  ${w}`)' "$work/counts.json"
