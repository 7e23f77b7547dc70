/**
 * Every error id the API answers with (`{ error: { id, message, details } }`). Clients show their own
 * text for the id, in the user's language; the message is English for logs and API users. An id not
 * listed here does not type-check on the server, and the console's translation test walks this list.
 */
export const errorIds = [
  // requests
  "validation_failed",
  "malformed_json",
  "payload_too_large",
  "bad_request",
  "unsupported_media_type",
  "cross_origin",
  "not_found",
  "time_in_future",
  "time_before_timeline",
  // sign-in and access
  "unauthenticated",
  "forbidden",
  "bad_credentials",
  "account_locked",
  "rate_limited",
  // telephony webhook
  "missing_headers",
  "bad_timestamp",
  "stale_timestamp",
  "bad_signature",
  "replayed",
  // calls and identification
  "unknown_rescue_code",
  "call_already_linked",
  // incident lifecycle
  "invalid_transition",
  "cause_required",
  "reason_required",
  "step_not_allowed",
  // dispatch
  "incident_not_dispatchable",
  "team_already_offered",
  "team_unavailable",
  "no_bookable_team",
  "offer_state_changed",
  "not_at_site",
  "team_has_active_offers",
  // field app
  "no_team",
  "not_your_team",
  "time_before_offer",
  "in_progress",
  "key_reused",
  "already_recorded",
  "outside_china",
  "accuracy_too_low",
  "position_jump",
  "position_too_old",
  "position_out_of_order",
  "too_many_positions",
  "photo_too_large",
  "not_an_image",
  // records
  "conflict",
  "already_exists",
  // platform
  "unavailable",
  "not_implemented",
  "internal",
] as const;

export type ErrorId = (typeof errorIds)[number];
