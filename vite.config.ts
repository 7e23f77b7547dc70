import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { VitePWA } from "vite-plugin-pwa";

const repoRoot = fileURLToPath(new URL(".", import.meta.url));
const clientRoot = fileURLToPath(new URL("./client", import.meta.url));
const backend = "http://127.0.0.1:3000";

/** The PWA plugin links its manifest into every page; only the field app is meant to be installed. */
function fieldOnlyManifest(): Plugin {
  return {
    name: "lift96333:field-only-manifest",
    enforce: "post",
    generateBundle: {
      order: "post",
      handler(_options, bundle) {
        for (const file of Object.values(bundle)) {
          if (file.type === "asset" && file.fileName.endsWith(".html") && file.fileName !== "field.html") {
            file.source = String(file.source).replace(/<link rel="manifest"[^>]*>/g, "");
          }
        }
      },
    },
  };
}

export default defineConfig({
  root: clientRoot,
  plugins: [
    react(),
    // The rescuer app at /field: installable, its shell cached by a Workbox service worker scoped to /field.
    VitePWA({
      filename: "field-sw.js",
      manifestFilename: "field.webmanifest",
      scope: "/field",
      registerType: "autoUpdate",
      injectRegister: false,
      includeAssets: [],
      manifest: {
        id: "/field",
        name: "96333 电梯救援",
        short_name: "96333 救援",
        description: "96333 电梯应急救援人员 App：接单、导航、到场、解困",
        lang: "zh-CN",
        start_url: "/field",
        scope: "/field",
        display: "standalone",
        orientation: "portrait",
        background_color: "#f4f4f4",
        theme_color: "#c62828",
        icons: [
          { src: "/field-icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/field-icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/field-icon-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        // The field app's shell only; the console is not part of the phone app.
        globPatterns: ["field.html", "assets/{field,vendor,sound,rolldown-runtime}-*.{js,css}", "field-icon-*.png"],
        navigateFallback: "/field.html",
        navigateFallbackAllowlist: [/^\/field(\/|$|\?)/],
        navigateFallbackDenylist: [/^\/api\//, /^\/socket\.io\//],
        cleanupOutdatedCaches: true,
      },
    }),
    fieldOnlyManifest(),
  ],
  build: {
    outDir: fileURLToPath(new URL("./dist/client", import.meta.url)),
    emptyOutDir: true,
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL("./client/index.html", import.meta.url)),
        field: fileURLToPath(new URL("./client/field.html", import.meta.url)),
      },
      output: {
        // Vendor code changes rarely: separate chunks stay cached across app releases.
        codeSplitting: {
          groups: [
            { name: "leaflet", test: /node_modules[\\/](leaflet)[\\/]/ },
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
