// The worker's module hooks (ES-module workflow files in CommonJS packages), as a file of the bundle:
// importUserModule registers ./module-hooks.js next to the bundled worker code.
export { resolve } from "@toil/worker/module-hooks";
