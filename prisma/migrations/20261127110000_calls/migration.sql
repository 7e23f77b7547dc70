-- AlterTable
ALTER TABLE "calls" ADD COLUMN     "createdBy" TEXT,
ADD COLUMN     "rescueCode" VARCHAR(6),
ADD COLUMN     "source" TEXT NOT NULL DEFAULT 'pbx';

-- CreateTable
CREATE TABLE "telephony_deliveries" (
    "id" SERIAL NOT NULL,
    "signature" TEXT NOT NULL,
    "callId" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "telephony_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "telephony_deliveries_signature_key" ON "telephony_deliveries"("signature");

-- CreateIndex
CREATE INDEX "telephony_deliveries_callId_event_idx" ON "telephony_deliveries"("callId", "event");

-- CreateIndex
CREATE INDEX "telephony_deliveries_receivedAt_idx" ON "telephony_deliveries"("receivedAt");

-- CreateIndex
CREATE INDEX "sites_lat_lng_idx" ON "sites"("lat", "lng");
