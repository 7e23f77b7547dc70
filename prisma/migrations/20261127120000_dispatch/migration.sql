-- Issue 5: dispatch engine and SLA deadlines.

-- AlterTable
ALTER TABLE "teams" ADD COLUMN "travelRatio" DOUBLE PRECISION NOT NULL DEFAULT 1,
ADD COLUMN "travelSamples" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "dispatch_offers" ADD COLUMN "arrivedAt" TIMESTAMP(3),
ADD COLUMN "arrivalLat" DOUBLE PRECISION,
ADD COLUMN "arrivalLng" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "sla_deadlines" ADD COLUMN "claimedUntil" TIMESTAMP(3),
ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0;

-- The scheduler only ever scans pending deadlines by due time.
CREATE INDEX "sla_deadlines_pending_idx" ON "sla_deadlines" ("dueAt") WHERE "firedAt" IS NULL AND "cancelledAt" IS NULL;
