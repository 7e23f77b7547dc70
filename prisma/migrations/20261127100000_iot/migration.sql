-- Issue 3 (elevator IoT): mosquitto password hash, alarm flapping, device offline periods.

-- AlterTable
ALTER TABLE "devices" ADD COLUMN     "mosquittoHash" TEXT;

-- AlterTable
ALTER TABLE "alarms" ADD COLUMN     "flapCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastAlarmId" TEXT,
ADD COLUMN     "lastRaisedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "device_offline_periods" (
    "id" SERIAL NOT NULL,
    "deviceId" TEXT NOT NULL,
    "from" TIMESTAMP(3) NOT NULL,
    "to" TIMESTAMP(3),
    "reason" TEXT NOT NULL,

    CONSTRAINT "device_offline_periods_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "device_offline_periods_deviceId_from_idx" ON "device_offline_periods"("deviceId", "from");

-- CreateIndex
CREATE INDEX "alarms_deviceId_lastAlarmId_idx" ON "alarms"("deviceId", "lastAlarmId");

-- CreateIndex
CREATE INDEX "alarms_deviceId_code_receivedAt_idx" ON "alarms"("deviceId", "code", "receivedAt");

-- AddForeignKey
ALTER TABLE "device_offline_periods" ADD CONSTRAINT "device_offline_periods_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
