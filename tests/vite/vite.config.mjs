import { fileURLToPath } from "node:url";

export default {
  root: fileURLToPath(new URL("./app", import.meta.url)),
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../../build/vite-dist", import.meta.url)),
    emptyOutDir: true,
  },
};
