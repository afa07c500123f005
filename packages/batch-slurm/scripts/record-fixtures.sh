#!/usr/bin/env bash
# Records real squeue / scontrol / sacct -c / sinfo outputs from a Slurm cluster into
# test/fixtures/ (used by the parsing unit tests). Needs an idle cluster; takes about 2 minutes
# because one job runs into its time limit.
set -euo pipefail
out="$(cd "$(dirname "$0")/../test/fixtures" && pwd)"
log="$(mktemp -d)"
sub() { sbatch --parsable -o "$log/%j.out" "$@"; }
ok=$(sub --wrap 'exit 0')
exit3=$(sub --wrap 'exit 3')
arr=$(sub --array=0-2 --wrap 'exit $SLURM_ARRAY_TASK_ID')
kill9=$(sub --wrap 'kill -9 $$')
term=$(sub --wrap 'kill -TERM $$; sleep 1')
oom=$(sub --mem=50M --wrap 'python3 -c "x = bytearray(400 * 1024 * 1024); import time; time.sleep(2)"')
running=$(sub --wrap 'sleep 300')
pending=$(sub --begin=now+1hour --wrap true)
timeout=$(sub --time=1 --wrap 'sleep 300')
ids="$ok,$exit3,$arr,$kill9,$term,$oom,$running,$pending,$timeout"
echo "ok=$ok exit3=$exit3 array=$arr kill9=$kill9 term=$term oom=$oom running=$running pending=$pending timeout=$timeout" >"$out/ids.txt"
sleep 6
squeue -h -t all -r -j "$ids" -O 'JobID:|,JobArrayID:|,State:|,exit_code:|,TimeUsed:|' >"$out/squeue-live.txt"
scancel "$running" "$pending"
sleep 8
squeue -h -t all -r -j "$ids" -O 'JobID:|,JobArrayID:|,State:|,exit_code:|,TimeUsed:|' >"$out/squeue-ended.txt"
echo "waiting for the time limit of job $timeout" >&2
for _ in $(seq 1 60); do
  state=$(squeue -h -t all -j "$timeout" -O 'State:|' | tr -d '|' | tr -d ' ')
  [ "$state" = TIMEOUT ] && break
  sleep 3
done
squeue -h -t all -r -j "$ids" -O 'JobID:|,JobArrayID:|,State:|,exit_code:|,TimeUsed:|' >"$out/squeue-final.txt"
raw=$(squeue -h -t all -r -j "$ids" -O 'JobID:|' | tr -d '|' | tr -d ' ' | paste -sd,)
for j in $(echo "$raw" | tr , ' '); do scontrol show job -o "$j"; done >"$out/scontrol-each.txt"
sacct -c -n -P -o JobID,JobIDRaw,State,ExitCode,Elapsed -j "$raw" >"$out/sacct-c.txt" 2>"$out/sacct-c.stderr.txt"
sacct -n -P -o JobID,JobIDRaw,State,ExitCode,Elapsed -j "$ok" >"$out/sacct-nodbd.stdout.txt" 2>"$out/sacct-nodbd.stderr.txt" || true
squeue -h -t all -r -j 999999 -O 'JobID:|' >"$out/squeue-unknown-single.stdout.txt" 2>"$out/squeue-unknown-single.stderr.txt" || true
sinfo -a -h -o '%P|%G|%l|%p' >"$out/sinfo.txt"
cp "$log/$oom.out" "$out/oom-job-output.txt"
rm -rf "$log"
echo "recorded into $out" >&2
