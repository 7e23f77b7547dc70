import { Prisma, type PrismaClient } from "../platform/db/generated/client.ts";
import type { DbClient } from "../platform/db/types.ts";

/** The offer a phone acts on, with what its actions are checked against. */
export interface FieldOffer {
  id: number;
  incidentId: number;
  teamId: number;
  status: string;
  offeredAt: Date;
}

export interface StoredAnswer {
  userId: number;
  kind: string;
  status: number | null;
  response: unknown;
  receivedAt: Date;
}

export interface PhotoRow {
  id: number;
  incidentId: number;
  offerId: number;
  teamId: number;
  takenAt: Date;
  receivedAt: Date;
  lat: number | null;
  lng: number | null;
  contentType: string;
  sizeBytes: number;
}

const photoColumns = {
  id: true,
  incidentId: true,
  offerId: true,
  teamId: true,
  takenAt: true,
  receivedAt: true,
  lat: true,
  lng: true,
  contentType: true,
  sizeBytes: true,
} as const;

/** The field capability's reads and writes: idempotency records of phone actions, and photos. */
export function createFieldRepository(prisma: PrismaClient) {
  return {
    offer(offerId: number): Promise<FieldOffer | null> {
      return prisma.dispatchOffer.findUnique({ where: { id: offerId }, select: { id: true, incidentId: true, teamId: true, status: true, offeredAt: true } });
    },

    /**
     * Claims an idempotency key for its first delivery. False when the key is already known (answered, or
     * being handled right now): the caller reads it instead of acting again.
     */
    async claim(input: { key: string; userId: number; teamId: number; kind: string; offerId: number | null; happenedAt: Date; receivedAt: Date }): Promise<boolean> {
      const inserted = await prisma.$executeRaw`
        INSERT INTO field_actions (key, "userId", "teamId", kind, "offerId", "happenedAt", "receivedAt")
        VALUES (${input.key}, ${input.userId}::int, ${input.teamId}::int, ${input.kind}, ${input.offerId}::int,
                ${input.happenedAt}::timestamp(3), ${input.receivedAt}::timestamp(3))
        ON CONFLICT (key) DO NOTHING`;
      return inserted === 1;
    },

    stored(key: string): Promise<StoredAnswer | null> {
      return prisma.fieldAction.findUnique({ where: { key }, select: { userId: true, kind: true, status: true, response: true, receivedAt: true } });
    },

    async complete(key: string, answer: { status: number; response: unknown; at: Date }): Promise<void> {
      await prisma.fieldAction.update({
        where: { key },
        data: { status: answer.status, response: answer.response as Prisma.InputJsonValue, completedAt: answer.at },
      });
    },

    /** Forgets a claim whose action was refused or failed: nothing was recorded, a retry may try again. */
    async release(key: string): Promise<void> {
      await prisma.fieldAction.deleteMany({ where: { key, status: null } });
    },

    /** Takes over a claim left unanswered by a delivery that died midway (its process, or its database connection). */
    async reclaim(key: string, olderThan: Date, receivedAt: Date): Promise<boolean> {
      const taken = await prisma.fieldAction.updateMany({ where: { key, status: null, receivedAt: { lt: olderThan } }, data: { receivedAt } });
      return taken.count === 1;
    },

    /** In the caller's transaction, with the photo's timeline entry. */
    async addPhoto(db: DbClient, input: Omit<PhotoRow, "id"> & { uploadedBy: string; data: string }): Promise<PhotoRow> {
      return db.incidentPhoto.create({ data: input, select: photoColumns });
    },

    photos(incidentId: number): Promise<PhotoRow[]> {
      return prisma.incidentPhoto.findMany({ where: { incidentId }, select: photoColumns, orderBy: { takenAt: "asc" } });
    },

    /** With the image, base64. */
    photo(id: number): Promise<(PhotoRow & { data: string }) | null> {
      return prisma.incidentPhoto.findUnique({ where: { id }, select: { ...photoColumns, data: true } });
    },
  };
}

export type FieldRepository = ReturnType<typeof createFieldRepository>;
