import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { ConfigError, defaultConfig, formatConfigSize, type Config, type ConfigOptionSpec } from "@toil/job";
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

/**
 * Write the commented config file (`toil config FILE`). A file that cannot be written (its directory
 * is missing or read-only, or the path is a directory) throws `ConfigError` saying why and what to do.
 */
export function writeConfigFile(file: string, pluginSpecs: readonly ConfigOptionSpec[] = [], cwd = process.cwd()): void {
  const abs = path.resolve(cwd, file);
  try {
    writeFileSync(abs, renderConfigFile(pluginSpecs));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const dir = path.dirname(abs);
    let why: string;
    if (code === "ENOENT") {
      let dirExists = false;
      try {
        dirExists = statSync(dir).isDirectory();
      } catch {
        dirExists = false;
      }
      why = dirExists ? `${code}` : `its directory ${dir} does not exist; create it first (mkdir -p ${dir}) or write the file elsewhere`;
    } else if (code === "EISDIR") {
      why = `${abs} is a directory; give a file name, e.g. ${path.join(abs, "toil.yaml")}`;
    } else if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      why = `${code}: ${dir} is not writable by this user; write the file somewhere writable`;
    } else if (code === "ENOTDIR") {
      why = `a part of ${dir} is a file, not a directory; write the file elsewhere`;
    } else {
      why = (err as Error).message;
    }
    throw new ConfigError(`Cannot write config file ${JSON.stringify(file)}: ${why}.`);
  }
}
