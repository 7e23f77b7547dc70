import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { registerSW } from "virtual:pwa-register";
import "./i18n.ts";
import "./field.css";
import { App } from "./App.tsx";

const root = document.getElementById("root");
if (!root) throw new Error("#root missing from field.html");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
// The service worker keeps the app shell on the phone: the app opens without a network.
registerSW({ immediate: true });
