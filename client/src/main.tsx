import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./i18n/index.ts";
import "./styles.css";
import { App } from "./App.tsx";
import { AuthGate, NotForRescuers } from "./auth/AuthGate.tsx";

const root = document.getElementById("root");
if (!root) throw new Error("#root missing from index.html");
createRoot(root).render(
  <StrictMode>
    <AuthGate>{(me) => (me.role === "rescuer" ? <NotForRescuers /> : <App me={me} />)}</AuthGate>
  </StrictMode>,
);
