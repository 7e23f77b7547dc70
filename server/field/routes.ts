import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { READERS } from "../auth/roles.ts";
import { accessChecks } from "../auth/scopes.ts";
import type { AccessRepository } from "../auth/repository.ts";
import { fieldAction, incidentView, photoUpload, photoView, positionReport, teamView } from "../contracts/index.ts";
import { errors } from "../platform/errors.ts";
import type { TeamBoard } from "../dispatch/teams.ts";
import type { FieldRepository } from "./repository.ts";
import { presentPhoto, type FieldService } from "./service.ts";

const idParams = z.object({ id: z.coerce.number().int().positive() });
/** Photos come as base64 in JSON; the API's usual body limit is far smaller. */
export const PHOTO_UPLOAD_PATH = "/api/field/photos";
export const PHOTO_BODY_LIMIT = "5mb";

/** The rescuer phone app's routes: its team and settings, actions with idempotency keys, positions and photos. */
export function registerFieldRoutes(
  api: ApiRouter,
  deps: { field: FieldService; repository: FieldRepository; teams: TeamBoard; access: AccessRepository; arrivalRadiusM: number; offerTimeoutS: number },
): void {
  const { field } = deps;
  const scope = accessChecks(deps.access);

  api.route({
    method: "get",
    path: "/api/field/me",
    summary: "The rescuer's team and the rules the phone app applies (arrival radius, offer timeout)",
    tags: ["field"],
    access: ["rescuer"],
    response: z.object({ team: teamView.nullable(), arrivalRadiusM: z.number().int(), offerTimeoutS: z.number().int() }),
    handler: async ({ user }) => ({
      team: user.teamId === null ? null : deps.teams.view(user.teamId),
      arrivalRadiusM: deps.arrivalRadiusM,
      offerTimeoutS: deps.offerTimeoutS,
    }),
  });

  api.route({
    method: "post",
    path: "/api/field/actions",
    summary:
      "A step from the rescuer's phone (accept, decline, depart, arrive, freed, note) under an idempotency key, with the time it happened; " +
      "a second delivery of the same key answers 409 already_recorded and changes nothing",
    tags: ["field"],
    access: ["rescuer"],
    body: fieldAction,
    response: z.object({ incident: incidentView }),
    handler: ({ body, user }) => field.act(user, body),
  });

  api.route({
    method: "post",
    path: "/api/field/position",
    summary: "The team's position from its phone (checked for range, accuracy and speed; rate-limited per team)",
    tags: ["field"],
    access: ["rescuer"],
    // Every few seconds per team: the team's position history is the record, not the audit log.
    audit: false,
    body: positionReport,
    response: teamView,
    handler: ({ body, user }) => field.reportPosition(user, body),
  });

  api.route({
    method: "post",
    path: PHOTO_UPLOAD_PATH,
    summary: "A photo from the scene (JPEG, PNG or WebP, base64, at most 3 MB) with the time and position it was taken",
    tags: ["field"],
    access: ["rescuer"],
    body: photoUpload,
    response: photoView,
    status: 201,
    handler: ({ body, user }) => field.addPhoto(user, body),
  });

  api.route({
    method: "get",
    path: "/api/incidents/{id}/photos",
    summary: "The photos the teams took on scene, oldest first",
    tags: ["field", "incidents"],
    access: [...READERS, "rescuer"],
    scope: (user, { params }) => scope.incident(user, params.id),
    params: idParams,
    response: z.array(photoView),
    handler: async ({ params }) => (await deps.repository.photos(params.id)).map(presentPhoto),
  });

  api.route({
    method: "get",
    path: "/api/photos/{id}",
    summary: "One photo with its image (base64)",
    tags: ["field"],
    access: [...READERS, "rescuer"],
    params: idParams,
    response: photoView.extend({ data: z.string() }),
    handler: async ({ params, user }) => {
      const photo = await deps.repository.photo(params.id);
      // Same answer for a photo outside the caller's scope as for none at all.
      if (!photo || !(await scope.incident(user, photo.incidentId))) throw errors.notFound(`photo ${params.id}`);
      return { ...presentPhoto(photo), data: photo.data };
    },
  });
}
