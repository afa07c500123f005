// The module hooks of @toil/job's loader (TypeScript user files, relative imports of ./x.js meaning
// ./x.ts, ES-module workflow files in CommonJS packages), as a file of the bundle: importUserModule
// registers ./module-hooks.js next to the bundled loader code.
export { initialize, load, resolve } from "@toil/job/module-hooks";
