-- Rescuer phone actions under the idempotency key the phone chose: a replay returns the stored answer.
CREATE TABLE "field_actions" (
    "key" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "teamId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "offerId" INTEGER,
    "happenedAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "status" INTEGER,
    "response" JSONB,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "field_actions_pkey" PRIMARY KEY ("key")
);

CREATE INDEX "field_actions_userId_receivedAt_idx" ON "field_actions"("userId", "receivedAt");

-- Photos from the scene, with the time and position they were taken at.
CREATE TABLE "incident_photos" (
    "id" SERIAL NOT NULL,
    "incidentId" INTEGER NOT NULL,
    "offerId" INTEGER NOT NULL,
    "teamId" INTEGER NOT NULL,
    "uploadedBy" TEXT NOT NULL,
    "takenAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "lat" DOUBLE PRECISION,
    "lng" DOUBLE PRECISION,
    "contentType" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "data" TEXT NOT NULL,

    CONSTRAINT "incident_photos_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "incident_photos_incidentId_idx" ON "incident_photos"("incidentId");
