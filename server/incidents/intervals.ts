// The response intervals are computed the same way by the console: one definition, in the contracts.
export * from "../contracts/intervals.ts";
