// Prints the figures the end-to-end suites recorded (kills survived, bad inputs tried, bytes verified),
// summed per suite and name. Usage: node print-test-figures.mjs <figures.jsonl>
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2];
if (!file || !existsSync(file)) process.exit(0);
const totals = new Map();
for (const line of readFileSync(file, "utf8").split("\n")) {
  if (!line.trim()) continue;
  let fig;
  try {
    fig = JSON.parse(line);
  } catch {
    continue;
  }
  const key = `${fig.suite}\t${fig.name}\t${fig.unit ?? ""}`;
  totals.set(key, (totals.get(key) ?? 0) + Number(fig.value));
}
if (totals.size === 0) process.exit(0);
console.log("Figures from the end-to-end suites:");
for (const [key, value] of [...totals].sort()) {
  const [suite, name, unit] = key.split("\t");
  console.log(`  ${suite}: ${name} = ${value.toLocaleString("en-US")}${unit ? ` ${unit}` : ""}`);
}
