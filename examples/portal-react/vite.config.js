import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Nothing for appxite-customers here: the package needs no plugin or config line in Vite.
export default defineConfig({ plugins: [react()] });
