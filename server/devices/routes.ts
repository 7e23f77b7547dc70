import { z } from "zod";
import type { ApiRouter } from "../platform/http.ts";
import { ADMINS, ALL, CITY_READERS, type SessionUser } from "../auth/roles.ts";
import { ApiError, errors } from "../platform/errors.ts";
import { deviceView, deviceWithSecret, elevatorLiveView, type DeviceView } from "../contracts/index.ts";
import type { DeviceIngest } from "./ingest.ts";
import type { DeviceRegistry } from "./registry.ts";
import type { DeviceChange, DeviceRepository, DeviceRow, DeviceWrite } from "./repository.ts";
import { deviceIdSchema } from "./protocol.ts";
import { hashDeviceSecret, mosquittoPasswordHash, newDeviceSecret } from "./secrets.ts";

const present = (d: DeviceRow, online?: boolean, lastSeen?: number | null): DeviceView => ({
  id: d.id,
  elevatorId: d.elevatorId,
  firmware: d.firmware,
  online: online ?? d.online,
  lastSeenAt: lastSeen != null ? new Date(lastSeen).toISOString() : (d.lastSeenAt?.toISOString() ?? null),
  disabled: d.disabledAt !== null,
  createdAt: d.createdAt.toISOString(),
});

/**
 * The device registry (admin). Every change is written to the database first and then to the in-memory
 * registry the broker authenticates against, so a login is accepted or refused from the next CONNECT on.
 */
export function registerDeviceRoutes(
  api: ApiRouter,
  deps: {
    devices: DeviceRepository;
    registry: DeviceRegistry;
    ingest: DeviceIngest;
    /** Closes the device's live broker session (embedded broker; an external one re-reads its files on SIGHUP). */
    endSession?: (deviceId: string) => void;
    /** Whether the user may see the elevator (server/auth/scopes.ts): the live view follows the elevator's scope. */
    elevatorInScope: (user: SessionUser, elevatorId: number) => Promise<boolean>;
  },
) {
  const { devices, registry, ingest } = deps;
  const sync = (d: DeviceRow) => {
    registry.set({ id: d.id, elevatorId: d.elevatorId, secretHash: d.secretHash, disabled: d.disabledAt !== null });
    const p = ingest.presence.get(d.id);
    return present(d, p?.online, p?.lastSeen);
  };
  const idParams = z.object({ id: deviceIdSchema });
  const change = async (id: string, data: DeviceChange) => {
    const written = await devices.update(id, data);
    if (written.ok) return written.device;
    throw written.reason === "missing" ? errors.notFound(`device ${id}`) : errors.conflict("that elevator already has a device bound");
  };
  const ensureElevator = async (elevatorId: number) => {
    if (!(await devices.elevatorExists(elevatorId))) throw errors.notFound(`elevator ${elevatorId}`);
  };
  const issueSecret = () => {
    const secret = newDeviceSecret();
    return { secret, secretHash: hashDeviceSecret(secret), mosquittoHash: mosquittoPasswordHash(secret) };
  };

  api.route({
    method: "post",
    path: "/api/devices",
    summary: "Register a device; the response carries its secret, shown this once and stored only hashed",
    tags: ["devices"],
    access: ADMINS,
    audit: "device.register",
    status: 201,
    body: z.object({
      id: deviceIdSchema,
      elevatorId: z.number().int().positive().nullable().optional(),
      firmware: z.string().max(64).optional(),
    }),
    response: deviceWithSecret,
    handler: async ({ body }) => {
      if (body.elevatorId != null) await ensureElevator(body.elevatorId);
      if (await devices.find(body.id)) throw errors.conflict(`device ${body.id} is already registered`);
      const { secret, secretHash, mosquittoHash } = issueSecret();
      const created: DeviceWrite = await devices.create({ id: body.id, elevatorId: body.elevatorId ?? null, firmware: body.firmware ?? null, secretHash, mosquittoHash });
      if (!created.ok) throw errors.conflict(`device ${body.id} exists, or the elevator already has a device`);
      return { device: sync(created.device), secret };
    },
  });

  api.route({
    method: "get",
    path: "/api/devices/{id}",
    summary: "One device (never its secret)",
    tags: ["devices"],
    access: CITY_READERS,
    params: idParams,
    response: deviceView,
    handler: async ({ params }) => {
      const row = await devices.find(params.id);
      if (!row) throw errors.notFound(`device ${params.id}`);
      const p = ingest.presence.get(row.id);
      return present(row, p?.online, p?.lastSeen);
    },
  });

  api.route({
    method: "post",
    path: "/api/devices/{id}/bind",
    summary: "Bind the device to an elevator (one device per elevator)",
    tags: ["devices"],
    access: ADMINS,
    audit: "device.bind",
    params: idParams,
    body: z.object({ elevatorId: z.number().int().positive() }),
    response: deviceView,
    handler: async ({ params, body }) => {
      await ensureElevator(body.elevatorId);
      const holder = await devices.boundTo(body.elevatorId);
      if (holder !== null && holder !== params.id) throw errors.conflict(`elevator ${body.elevatorId} already has device ${holder}`);
      return sync(await change(params.id, { elevatorId: body.elevatorId }));
    },
  });

  api.route({
    method: "post",
    path: "/api/devices/{id}/unbind",
    summary: "Unbind the device from its elevator",
    tags: ["devices"],
    access: ADMINS,
    audit: "device.unbind",
    params: idParams,
    response: deviceView,
    handler: async ({ params }) => sync(await change(params.id, { elevatorId: null })),
  });

  api.route({
    method: "post",
    path: "/api/devices/{id}/rotate-secret",
    summary: "Issue a new secret (returned this once); the old one stops working at once",
    tags: ["devices"],
    access: ADMINS,
    audit: "device.rotate_secret",
    params: idParams,
    response: deviceWithSecret,
    handler: async ({ params }) => {
      const { secret, secretHash, mosquittoHash } = issueSecret();
      const row = await change(params.id, { secretHash, mosquittoHash });
      deps.endSession?.(params.id); // a session opened with the old secret must not outlive it
      return { device: sync(row), secret };
    },
  });

  api.route({
    method: "post",
    path: "/api/devices/{id}/disable",
    summary: "Disable the device: its logins are refused and a live session is closed",
    tags: ["devices"],
    access: ADMINS,
    audit: "device.disable",
    params: idParams,
    response: deviceView,
    handler: async ({ params }) => {
      const row = await change(params.id, { disabledAt: new Date() });
      const view = sync(row);
      deps.endSession?.(params.id);
      return view;
    },
  });

  api.route({
    method: "post",
    path: "/api/devices/{id}/enable",
    summary: "Enable a disabled device",
    tags: ["devices"],
    access: ADMINS,
    audit: "device.enable",
    params: idParams,
    response: deviceView,
    handler: async ({ params }) => sync(await change(params.id, { disabledAt: null })),
  });

  api.route({
    method: "get",
    path: "/api/elevators/{id}/live",
    summary: "Live status of an elevator from its device (in memory: floor, door, mode, online, last seen)",
    tags: ["elevators"],
    access: ALL,
    scope: (user, { params }) => deps.elevatorInScope(user, params.id),
    params: z.object({ id: z.coerce.number().int().positive() }),
    response: elevatorLiveView,
    handler: async ({ params }) => {
      const deviceId = registry.deviceOfElevator(params.id);
      const view = deviceId ? ingest.liveView(deviceId) : null;
      if (!view) throw new ApiError(404, "not_found", `elevator ${params.id} has no device`);
      return view;
    },
  });
}
