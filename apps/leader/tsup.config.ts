import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { defineConfig, type Options } from "tsup";
import { packageBuild } from "../../tooling/tsup-preset.js";

/**
 * The scripts the batch systems start in other processes must sit in `runtime/` next to the
 * bundled code: @toil/batch-local's warm host, @toil/batch-slurm's worker host and pack runner,
 * found through the packages' exports maps, with the runtime modules they import. The folder has
 * no node_modules, so a script's import of another package's runtime module (`@toil/batch-core/
 * runtime/redirect-output.mjs`) becomes an import of its copy beside it; the scripts stay as
 * written otherwise (readable where they run, on a cluster node), and an import that the folder
 * cannot provide fails the build.
 */
function copyRuntimeScripts(): void {
  const outDir = "dist/standalone/runtime";
  mkdirSync(outDir, { recursive: true });
  const require = createRequire(import.meta.url);
  const copiedFrom = new Map<string, string>();
  const copy = (file: string): void => {
    const name = path.basename(file);
    const earlier = copiedFrom.get(name);
    if (earlier === file) return;
    if (earlier) throw new Error(`Two runtime scripts are both named ${name}: ${earlier} and ${file}`);
    copiedFrom.set(name, file);
    const source = readFileSync(file, "utf8").replace(
      /^((?:import|export)\b[^;]*?\bfrom\s*|import\s*)(["'])([^"']+)\2/gm,
      (statement: string, head: string, quote: string, specifier: string) => {
        if (specifier.startsWith("node:")) return statement;
        if (specifier.startsWith("./")) {
          copy(path.resolve(path.dirname(file), specifier));
          return statement;
        }
        if (!/^@toil\/[^/]+\/runtime\/[^/]+\.mjs$/.test(specifier)) {
          throw new Error(`${file} imports "${specifier}", which the standalone runtime/ folder cannot provide`);
        }
        copy(createRequire(file).resolve(specifier));
        return `${head}${quote}./${path.basename(specifier)}${quote}`;
      },
    );
    writeFileSync(path.join(outDir, name), source);
  };
  for (const script of [
    "@toil/batch-local/runtime/warm-host.mjs",
    "@toil/batch-slurm/runtime/worker-host.mjs",
    "@toil/batch-slurm/runtime/pack-runner.mjs",
  ]) {
    copy(require.resolve(script));
  }
}

/** A bundled library's license goes with the code that carries it. */
function copyLicense(library: string, outDir: string): void {
  const require = createRequire(import.meta.url);
  mkdirSync(outDir, { recursive: true });
  // Found from its entry point: not every package exports its package.json.
  let dir = path.dirname(require.resolve(library));
  while (!existsSync(path.join(dir, "LICENSE"))) {
    if (dir === path.dirname(dir)) throw new Error(`${library} has no LICENSE file`);
    dir = path.dirname(dir);
  }
  copyFileSync(path.join(dir, "LICENSE"), path.join(outDir, `${library}.LICENSE`));
}

/**
 * `toil report` inlines ECharts' minified build into its HTML file; the bundle has no node_modules,
 * so it carries the file itself, gzipped (1.1 MB -> 0.36 MB), with the library's license and notice.
 */
function copyEcharts(): void {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve("echarts/package.json"));
  mkdirSync("dist/standalone/vendor", { recursive: true });
  writeFileSync("dist/standalone/vendor/echarts.min.js.gz", gzipSync(readFileSync(path.join(pkgDir, "dist", "echarts.min.js")), { level: 9 }));
  copyFileSync(path.join(pkgDir, "LICENSE"), "dist/standalone/vendor/echarts.LICENSE");
  copyFileSync(path.join(pkgDir, "NOTICE"), "dist/standalone/vendor/echarts.NOTICE");
}

/**
 * In the standalone build, the packages' `import("tsx/esm/api")` (how they load .ts files) becomes
 * src/standalone/tsx-api.ts: the bundle's own hooks strip types, so tsx and esbuild's native
 * binary are not needed.
 */
const tsxInBundle: NonNullable<Options["esbuildPlugins"]>[number] = {
  name: "toil-tsx-in-bundle",
  setup(build) {
    build.onResolve({ filter: /^tsx(\/.*)?$/ }, () => ({ path: path.resolve("src/standalone/tsx-api.ts") }));
  },
};

/**
 * commander, bundled, reads Node's builtins with `process.getBuiltinModule` (no CommonJS `require`
 * to provide in an ES module) and loads `node:child_process` on first use: it is there for
 * subcommands that are separate executables, which `toil` has none of, and it (with net and dgram)
 * cost every command about 2 ms. The build fails if commander's source changed.
 */
const commanderBuiltins: NonNullable<Options["esbuildPlugins"]>[number] = {
  name: "toil-commander-builtins",
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      let source = readFileSync(args.path, "utf8");
      if (!source.includes(eager)) throw new Error(`${args.path} no longer contains: ${eager}`);
      source = source.replace(eager, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };");
      source = source.replace(/\brequire\('(node:[a-z_]+)'\)/g, "globalThis.process.getBuiltinModule('$1')");
      if (/\brequire\('node:/.test(source)) throw new Error(`${args.path}: a require of a builtin was left`);
      return { contents: source, loader: "js" };
    });
  },
};

export default defineConfig([
  {
    // The package build: dependencies stay external (installed next to it).
    ...packageBuild,
    entry: ["src/index.ts", "src/cli.ts", "src/cwl-runner.ts", "src/worker.ts"],
    dts: { entry: ["src/index.ts"] },
    keepNames: true,
    // commander is bundled: Node loads it as CommonJS from an ES module through its translator, which
    // scans the 125 KB for exports first; bundled, it costs `toil --help` about 10 ms less.
    noExternal: ["commander"],
    esbuildPlugins: [commanderBuiltins],
    onSuccess: async () => copyLicense("commander", "dist/vendor"),
  },
  {
    // The standalone build: everything bundled, including the TypeScript loader (see src/standalone/hooks.ts):
    // it runs with only Node installed, .ts workflow files included.
    entry: {
      toil: "src/standalone/toil.ts",
      worker: "src/standalone/worker.ts",
      job: "src/standalone/job.ts",
      leader: "src/standalone/leader.ts",
      hooks: "src/standalone/hooks.ts",
      "module-hooks": "src/standalone/module-hooks.ts",
      "toil-cwl-runner": "src/standalone/toil-cwl-runner.ts",
      "cwl-jobs": "src/standalone/cwl-jobs.ts",
    },
    outDir: "dist/standalone",
    format: ["esm"],
    dts: false,
    clean: true,
    target: "node20",
    sourcemap: false,
    keepNames: true,
    splitting: true,
    noExternal: [/./],
    // esbuild (native) stays out: the bundle's hooks strip types with sucrase, and a file that needs
    // esbuild's lowering (using declarations, decorators) is loaded as stripped.
    external: ["playwright-core", "esbuild"],
    esbuildPlugins: [tsxInBundle],
    banner: { js: "import { createRequire as __toilCreateRequire } from 'node:module'; const require = __toilCreateRequire(import.meta.url);" },
    onSuccess: async () => {
      // The bundle's files are ES modules wherever the folder is copied, even into a CommonJS
      // package (`npm init -y` writes "type": "commonjs").
      writeFileSync("dist/standalone/package.json", `${JSON.stringify({ type: "module", private: true }, null, 2)}\n`);
      copyRuntimeScripts();
      copyEcharts();
    },
  },
]);
