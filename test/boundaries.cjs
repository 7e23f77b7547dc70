/**
 * The boundaries between the server, the dispatcher console and the device simulator
 * (docs/architecture.md, "Boundaries"). `npm run check:boundaries` checks them, and `npm test` runs that
 * check, so a forbidden import fails CI like a failing test.
 *
 * Why: the console is a browser bundle and the simulator stands in for real devices, PBXs and rescuers'
 * phones. Both may share the server's contracts (pure shapes, schemas and rules), never its internals:
 * devices speak MQTT, phones and PBXs the public REST API. Each `comment` below is what a violation prints.
 *
 * Type-only imports count (tsPreCompilationDeps): a type from a server internal couples just as much.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "console-only-through-contracts",
      severity: "error",
      comment:
        "client/ is the dispatcher console, a browser bundle: it may import from the server only server/contracts/ " +
        "(REST and Socket.io shapes, lifecycle, intervals, roles). Move what it needs there, pure.",
      from: { path: "^client/" },
      to: { path: "^server/", pathNot: "^server/contracts/" },
    },
    {
      name: "simulator-only-through-contracts",
      severity: "error",
      comment:
        "devices/ simulates lifts, the PBX and rescue crews: it may import from the server only server/contracts/ " +
        "(MQTT protocol v1, telephony webhook, demo-secret formulas). Devices speak MQTT, crews and PBXs the public " +
        "REST API, like the real ones; whatever needs node:crypto is computed with the simulator's own (devices/crypto.ts).",
      from: { path: "^devices/" },
      to: { path: "^server/", pathNot: "^server/contracts/" },
    },
    {
      name: "contracts-no-node-builtins",
      severity: "error",
      comment:
        "server/contracts/ is bundled into the browser console: no node:* modules. A formula that needs node:crypto " +
        "takes the HMAC as an argument (server/contracts/hmac.ts); each side passes its own.",
      from: { path: "^server/contracts/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "contracts-only-zod",
      severity: "error",
      comment:
        "server/contracts/ is pure: the only package it may use is zod. No Prisma (@prisma/*, prisma, the generated " +
        "client), no express, pg, mqtt, socket.io or anything else with a runtime of its own.",
      from: { path: "^server/contracts/" },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-bundled", "npm-no-pkg", "npm-unknown"], pathNot: "^node_modules/zod/" },
    },
    {
      name: "contracts-no-other-server-folders",
      severity: "error",
      comment:
        "server/contracts/ depends on nothing else of the server (the Prisma client in server/platform/db/generated " +
        "included): server modules import the contracts, never the other way round.",
      from: { path: "^server/contracts/" },
      to: { path: "^server/", pathNot: "^server/contracts/" },
    },
    {
      name: "server-not-into-console-or-simulator",
      severity: "error",
      comment:
        "The server does not import the console or the simulator. The one exception is server/main.ts " +
        "(`npm start`), which starts the demo aids devices/fleet.ts and devices/crews.ts (see the next rule).",
      from: { path: "^server/", pathNot: "^server/main\\.ts$" },
      to: { path: "^(client|devices)/" },
    },
    {
      name: "server-main-only-demo-aids",
      severity: "error",
      comment:
        "Exception: server/main.ts may start the demo aids devices/fleet.ts (simulated lifts over MQTT) and " +
        "devices/crews.ts (demo rescue crews over REST), which reach the server like outside clients do. " +
        "Nothing else of devices/ or client/.",
      from: { path: "^server/main\\.ts$" },
      to: { path: "^(client|devices)/", pathNot: "^devices/(fleet|crews)\\.ts$" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "An import that resolves to nothing would hide a boundary crossing from the rules above. Vite's virtual " +
        "modules (virtual:pwa-register, the field app's service worker registration) exist only inside the build.",
      from: {},
      to: { couldNotResolve: true, pathNot: "^virtual:" },
    },
  ],
  options: {
    doNotFollow: { path: ["node_modules", "^server/platform/db/generated/"] },
    exclude: { path: ["^dist/", "^data/"] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
