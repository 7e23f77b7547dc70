// docs/protocol.md (v1) is shared with the device simulator: one definition, in the contracts.
export * from "../contracts/protocol.ts";
