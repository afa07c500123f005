import { writeFileSync } from "node:fs";
import YAML from "yaml";
import { defaultConfig, formatConfigSize, type Config, type ConfigOptionSpec } from "@toil/job";
import { cliOptions } from "./specs.js";

function yamlValue(value: unknown): string {
  return YAML.stringify(value ?? null, { lineWidth: 0 }).trimEnd();
}

/**
 * The text of a commented YAML config file listing every option with its default.
 * `toil run --config FILE` reads it back; `null` means "not set".
 */
export function renderConfigFile(pluginSpecs: readonly ConfigOptionSpec[] = []): string {
  const defaults: Config = defaultConfig();
  const lines: string[] = [
    "# toil-ts workflow configuration.",
    "# Use it with: toil run FLOW --config THIS_FILE. Flags and environment variables override these values",
    "# (precedence: flag > environment variable > this file > default). null means \"not set\".",
  ];
  let section = "";
  for (const option of cliOptions(pluginSpecs)) {
    const { spec } = option;
    if (spec.section !== section) {
      section = spec.section;
      lines.push("", `# ---- ${section} ----`);
    }
    lines.push(`# ${spec.help}`);
    const extra: string[] = [`flag: --${option.flag}`];
    if (spec.env) extra.push(`environment: ${spec.env}`);
    if (spec.choices) extra.push(`one of: ${spec.choices.join(", ")}`);
    lines.push(`# (${extra.join("; ")})`);
    let value: unknown = option.plugin ? spec.default : defaults[spec.name as keyof Config];
    if (spec.kind === "size" && typeof value === "number") value = formatConfigSize(value);
    if (spec.name === "jobStore" && value === "") value = null;
    const rendered = yamlValue(value);
    if (rendered.includes("\n")) lines.push(`${spec.name}:`, ...rendered.split("\n").map((l) => `  ${l}`));
    else lines.push(`${spec.name}: ${rendered}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Write the commented config file (`toil config FILE`). */
export function writeConfigFile(file: string, pluginSpecs: readonly ConfigOptionSpec[] = []): void {
  writeFileSync(file, renderConfigFile(pluginSpecs));
}
