// The least a Rollup app has: node-resolve, nothing for wasm.
import { nodeResolve } from "@rollup/plugin-node-resolve";

export default { input: "app.js", output: { dir: "dist", format: "es" }, plugins: [nodeResolve({ browser: true })] };
