-- Follow-ups of committed changes (transactional outbox): written in the same transaction as the change,
-- delivered after commit by the relay, claimed with a lease so several processes share the work.
CREATE TABLE "outbox" (
    "id" SERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "availableAt" TIMESTAMP(3) NOT NULL,
    "claimedUntil" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "outbox_availableAt_idx" ON "outbox"("availableAt");

-- Deadlines are fired by marking them fired and writing a `deadline.due` outbox row in one transaction;
-- the relay's lease and retries replace the deadline's own.
ALTER TABLE "sla_deadlines" DROP COLUMN "claimedUntil",
DROP COLUMN "attempts";
