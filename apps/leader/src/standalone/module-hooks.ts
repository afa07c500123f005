// The worker's module hooks (TypeScript user files, relative imports of ./x.js meaning ./x.ts,
// ES-module workflow files in CommonJS packages), as a file of the bundle: importUserModule
// registers ./module-hooks.js next to the bundled worker code.
export { load, resolve } from "@toil/worker/module-hooks";
