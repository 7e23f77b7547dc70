import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const repoRoot = fileURLToPath(new URL(".", import.meta.url));
const backend = "http://127.0.0.1:3000";

export default defineConfig({
  root: fileURLToPath(new URL("./client", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("./dist/client", import.meta.url)),
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        // Vendor code changes rarely: separate chunks stay cached across app releases.
        codeSplitting: {
          groups: [
            { name: "leaflet", test: /node_modules[\\/](leaflet|gcoord)[\\/]/ },
            // Charts of the supervision screen only, loaded when it opens.
            { name: "echarts", test: /node_modules[\\/](echarts|zrender)[\\/]/ },
            { name: "vendor", test: /node_modules[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      "/api": backend,
      "/socket.io": { target: backend, ws: true },
    },
    // The client imports types (and may import schemas) from ../server/contracts.
    fs: { allow: [repoRoot] },
  },
});
