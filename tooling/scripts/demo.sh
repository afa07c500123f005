#!/usr/bin/env sh
# Runs the word-count example end to end through the real `toil` CLI and worker processes:
# split a text file, count words in parallel jobs, merge, export; then prints the result.
set -eu
cd "$(dirname "$0")/../.."
turbo run build --filter=@toil/leader... --output-logs=errors-only
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node apps/leader/dist/cli.js run examples/word-count/flow.ts --jobStore "$work/jobstore" --clean always \
  -- examples/word-count/sample.txt "$work/counts.json" 3
echo "Top words:"
node -e 'const c=require(process.argv[1]);for(const [w,n] of Object.entries(c).slice(0,10))console.log(`  ${String(n).padStart(4)}  ${w}`)' "$work/counts.json"
