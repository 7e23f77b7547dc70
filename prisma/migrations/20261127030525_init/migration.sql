-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('dispatcher', 'rescuer', 'supervisor', 'company_admin', 'admin');

-- CreateEnum
CREATE TYPE "TeamKind" AS ENUM ('maintenance', 'rescue_station', 'fire');

-- CreateEnum
CREATE TYPE "TeamStatus" AS ENUM ('available', 'offered', 'busy', 'off_duty', 'offline');

-- CreateEnum
CREATE TYPE "IncidentStatus" AS ENUM ('reported', 'dispatched', 'accepted', 'en_route', 'on_scene', 'released', 'closed', 'cancelled', 'false_alarm');

-- CreateEnum
CREATE TYPE "IncidentKind" AS ENUM ('entrapment', 'fault', 'other');

-- CreateEnum
CREATE TYPE "IncidentSource" AS ENUM ('call', 'alarm', 'manual');

-- CreateEnum
CREATE TYPE "OfferStatus" AS ENUM ('offered', 'accepted', 'declined', 'expired', 'withdrawn', 'completed');

-- CreateEnum
CREATE TYPE "AlarmSeverity" AS ENUM ('critical', 'major', 'minor', 'warning');

-- CreateEnum
CREATE TYPE "ActorType" AS ENUM ('user', 'device', 'team', 'system');

-- CreateTable
CREATE TABLE "districts" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "nameEn" TEXT NOT NULL,
    "central" BOOLEAN NOT NULL DEFAULT false,
    "arrivalLimitMinutes" INTEGER NOT NULL DEFAULT 30,
    "detourFactor" DOUBLE PRECISION NOT NULL DEFAULT 1.3,
    "centerLat" DOUBLE PRECISION NOT NULL,
    "centerLng" DOUBLE PRECISION NOT NULL,
    "outline" JSONB NOT NULL,

    CONSTRAINT "districts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "maintenance_companies" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "licenseNo" TEXT NOT NULL,
    "contactName" TEXT NOT NULL,
    "contactPhone" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "maintenance_companies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sites" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "placeType" TEXT NOT NULL,
    "districtId" INTEGER NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lng" DOUBLE PRECISION NOT NULL,
    "propertyCompany" TEXT NOT NULL,
    "propertyContact" TEXT NOT NULL,
    "propertyPhone" TEXT NOT NULL,

    CONSTRAINT "sites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "elevators" (
    "id" SERIAL NOT NULL,
    "registrationCode" VARCHAR(20) NOT NULL,
    "rescueCode" VARCHAR(6) NOT NULL,
    "type" TEXT NOT NULL,
    "brand" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "floors" INTEGER NOT NULL,
    "unitNo" TEXT NOT NULL,
    "installDate" DATE NOT NULL,
    "nextInspectionDue" DATE NOT NULL,
    "lastMaintenanceAt" TIMESTAMP(3),
    "usageUnit" TEXT NOT NULL,
    "siteId" INTEGER NOT NULL,
    "maintenanceCompanyId" INTEGER NOT NULL,
    "inService" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "elevators_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rescue_stations" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "districtId" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lng" DOUBLE PRECISION NOT NULL,
    "phone" TEXT NOT NULL,

    CONSTRAINT "rescue_stations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fire_stations" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "districtId" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lng" DOUBLE PRECISION NOT NULL,
    "phone" TEXT NOT NULL,

    CONSTRAINT "fire_stations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "teams" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "TeamKind" NOT NULL,
    "status" "TeamStatus" NOT NULL DEFAULT 'available',
    "phone" TEXT NOT NULL,
    "baseLat" DOUBLE PRECISION NOT NULL,
    "baseLng" DOUBLE PRECISION NOT NULL,
    "lat" DOUBLE PRECISION,
    "lng" DOUBLE PRECISION,
    "positionAt" TIMESTAMP(3),
    "maintenanceCompanyId" INTEGER,
    "rescueStationId" INTEGER,
    "fireStationId" INTEGER,

    CONSTRAINT "teams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "phone" TEXT,
    "maintenanceCompanyId" INTEGER,
    "teamId" INTEGER,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices" (
    "id" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "elevatorId" INTEGER,
    "firmware" TEXT,
    "online" BOOLEAN NOT NULL DEFAULT false,
    "lastSeenAt" TIMESTAMP(3),
    "disabledAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alarms" (
    "id" SERIAL NOT NULL,
    "deviceId" TEXT NOT NULL,
    "alarmId" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "rawCode" TEXT NOT NULL,
    "severity" "AlarmSeverity" NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "acknowledged" BOOLEAN NOT NULL DEFAULT false,
    "raisedAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "clearedAt" TIMESTAMP(3),
    "ackAt" TIMESTAMP(3),
    "ackBy" TEXT,
    "repeatCount" INTEGER NOT NULL DEFAULT 0,
    "flapping" BOOLEAN NOT NULL DEFAULT false,
    "floor" INTEGER,
    "passengers" BOOLEAN,
    "inDoorZone" BOOLEAN,
    "detail" TEXT,
    "elevatorId" INTEGER,
    "incidentId" INTEGER,

    CONSTRAINT "alarms_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "calls" (
    "id" SERIAL NOT NULL,
    "externalId" TEXT,
    "callerNumber" TEXT NOT NULL,
    "line" TEXT,
    "agent" TEXT,
    "recordingRef" TEXT,
    "ringingAt" TIMESTAMP(3) NOT NULL,
    "answeredAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "elevatorId" INTEGER,
    "incidentId" INTEGER,
    "notes" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mass_events" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "districtId" INTEGER,
    "siteId" INTEGER,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "mass_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incidents" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "kind" "IncidentKind" NOT NULL,
    "status" "IncidentStatus" NOT NULL DEFAULT 'reported',
    "source" "IncidentSource" NOT NULL,
    "elevatorId" INTEGER NOT NULL,
    "districtId" INTEGER NOT NULL,
    "massEventId" INTEGER,
    "reportedAt" TIMESTAMP(3) NOT NULL,
    "dispatchedAt" TIMESTAMP(3),
    "acceptedAt" TIMESTAMP(3),
    "enRouteAt" TIMESTAMP(3),
    "onSceneAt" TIMESTAMP(3),
    "releasedAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),
    "arrivalDeadlineAt" TIMESTAMP(3) NOT NULL,
    "trappedCount" INTEGER,
    "injuredCount" INTEGER,
    "causeClass" TEXT,
    "causeText" TEXT,
    "deviceOffline" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "incidents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incident_events" (
    "id" BIGSERIAL NOT NULL,
    "incidentId" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "fromStatus" "IncidentStatus",
    "toStatus" "IncidentStatus",
    "actorType" "ActorType" NOT NULL,
    "actorId" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "lat" DOUBLE PRECISION,
    "lng" DOUBLE PRECISION,
    "reason" TEXT,
    "data" JSONB,

    CONSTRAINT "incident_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dispatch_offers" (
    "id" SERIAL NOT NULL,
    "incidentId" INTEGER NOT NULL,
    "teamId" INTEGER NOT NULL,
    "tier" INTEGER NOT NULL,
    "status" "OfferStatus" NOT NULL DEFAULT 'offered',
    "backup" BOOLEAN NOT NULL DEFAULT false,
    "estimatedArrivalS" INTEGER NOT NULL,
    "distanceM" INTEGER NOT NULL,
    "offeredAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "respondedAt" TIMESTAMP(3),
    "declineReason" TEXT,
    "offeredBy" TEXT,

    CONSTRAINT "dispatch_offers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sla_deadlines" (
    "id" SERIAL NOT NULL,
    "incidentId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "dueAt" TIMESTAMP(3) NOT NULL,
    "firedAt" TIMESTAMP(3),
    "cancelledAt" TIMESTAMP(3),
    "data" JSONB,

    CONSTRAINT "sla_deadlines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "status_samples" (
    "id" BIGSERIAL NOT NULL,
    "deviceId" TEXT NOT NULL,
    "elevatorId" INTEGER,
    "at" TIMESTAMP(3) NOT NULL,
    "seq" INTEGER NOT NULL,
    "floor" INTEGER NOT NULL,
    "dir" TEXT NOT NULL,
    "door" TEXT NOT NULL,
    "moving" BOOLEAN NOT NULL,
    "passengers" BOOLEAN NOT NULL,
    "inDoorZone" BOOLEAN NOT NULL,
    "mode" TEXT NOT NULL,
    "speed" DOUBLE PRECISION,
    "load" DOUBLE PRECISION,

    CONSTRAINT "status_samples_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "districts_code_key" ON "districts"("code");

-- CreateIndex
CREATE UNIQUE INDEX "districts_name_key" ON "districts"("name");

-- CreateIndex
CREATE UNIQUE INDEX "maintenance_companies_name_key" ON "maintenance_companies"("name");

-- CreateIndex
CREATE UNIQUE INDEX "maintenance_companies_licenseNo_key" ON "maintenance_companies"("licenseNo");

-- CreateIndex
CREATE INDEX "sites_districtId_idx" ON "sites"("districtId");

-- CreateIndex
CREATE INDEX "sites_address_trgm_idx" ON "sites" USING GIN ("address" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "sites_name_trgm_idx" ON "sites" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "elevators_registrationCode_key" ON "elevators"("registrationCode");

-- CreateIndex
CREATE UNIQUE INDEX "elevators_rescueCode_key" ON "elevators"("rescueCode");

-- CreateIndex
CREATE INDEX "elevators_siteId_idx" ON "elevators"("siteId");

-- CreateIndex
CREATE INDEX "elevators_maintenanceCompanyId_idx" ON "elevators"("maintenanceCompanyId");

-- CreateIndex
CREATE UNIQUE INDEX "rescue_stations_name_key" ON "rescue_stations"("name");

-- CreateIndex
CREATE INDEX "rescue_stations_districtId_idx" ON "rescue_stations"("districtId");

-- CreateIndex
CREATE UNIQUE INDEX "fire_stations_name_key" ON "fire_stations"("name");

-- CreateIndex
CREATE INDEX "fire_stations_districtId_idx" ON "fire_stations"("districtId");

-- CreateIndex
CREATE UNIQUE INDEX "teams_name_key" ON "teams"("name");

-- CreateIndex
CREATE INDEX "teams_maintenanceCompanyId_idx" ON "teams"("maintenanceCompanyId");

-- CreateIndex
CREATE INDEX "teams_kind_status_idx" ON "teams"("kind", "status");

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE INDEX "users_teamId_idx" ON "users"("teamId");

-- CreateIndex
CREATE UNIQUE INDEX "devices_elevatorId_key" ON "devices"("elevatorId");

-- CreateIndex
CREATE INDEX "alarms_elevatorId_active_idx" ON "alarms"("elevatorId", "active");

-- CreateIndex
CREATE INDEX "alarms_incidentId_idx" ON "alarms"("incidentId");

-- CreateIndex
CREATE UNIQUE INDEX "alarms_deviceId_alarmId_key" ON "alarms"("deviceId", "alarmId");

-- CreateIndex
CREATE UNIQUE INDEX "calls_externalId_key" ON "calls"("externalId");

-- CreateIndex
CREATE INDEX "calls_callerNumber_ringingAt_idx" ON "calls"("callerNumber", "ringingAt");

-- CreateIndex
CREATE INDEX "calls_incidentId_idx" ON "calls"("incidentId");

-- CreateIndex
CREATE UNIQUE INDEX "incidents_code_key" ON "incidents"("code");

-- CreateIndex
CREATE INDEX "incidents_status_reportedAt_idx" ON "incidents"("status", "reportedAt");

-- CreateIndex
CREATE INDEX "incidents_elevatorId_status_idx" ON "incidents"("elevatorId", "status");

-- CreateIndex
CREATE INDEX "incidents_districtId_reportedAt_idx" ON "incidents"("districtId", "reportedAt");

-- CreateIndex
CREATE INDEX "incidents_massEventId_idx" ON "incidents"("massEventId");

-- CreateIndex
CREATE INDEX "incident_events_incidentId_at_idx" ON "incident_events"("incidentId", "at");

-- CreateIndex
CREATE INDEX "dispatch_offers_incidentId_idx" ON "dispatch_offers"("incidentId");

-- CreateIndex
CREATE INDEX "dispatch_offers_teamId_status_idx" ON "dispatch_offers"("teamId", "status");

-- CreateIndex
CREATE INDEX "sla_deadlines_dueAt_idx" ON "sla_deadlines"("dueAt");

-- CreateIndex
CREATE INDEX "sla_deadlines_incidentId_idx" ON "sla_deadlines"("incidentId");

-- CreateIndex
CREATE INDEX "status_samples_elevatorId_at_idx" ON "status_samples"("elevatorId", "at");

-- AddForeignKey
ALTER TABLE "sites" ADD CONSTRAINT "sites_districtId_fkey" FOREIGN KEY ("districtId") REFERENCES "districts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "elevators" ADD CONSTRAINT "elevators_siteId_fkey" FOREIGN KEY ("siteId") REFERENCES "sites"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "elevators" ADD CONSTRAINT "elevators_maintenanceCompanyId_fkey" FOREIGN KEY ("maintenanceCompanyId") REFERENCES "maintenance_companies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rescue_stations" ADD CONSTRAINT "rescue_stations_districtId_fkey" FOREIGN KEY ("districtId") REFERENCES "districts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "fire_stations" ADD CONSTRAINT "fire_stations_districtId_fkey" FOREIGN KEY ("districtId") REFERENCES "districts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "teams" ADD CONSTRAINT "teams_maintenanceCompanyId_fkey" FOREIGN KEY ("maintenanceCompanyId") REFERENCES "maintenance_companies"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "teams" ADD CONSTRAINT "teams_rescueStationId_fkey" FOREIGN KEY ("rescueStationId") REFERENCES "rescue_stations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "teams" ADD CONSTRAINT "teams_fireStationId_fkey" FOREIGN KEY ("fireStationId") REFERENCES "fire_stations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_maintenanceCompanyId_fkey" FOREIGN KEY ("maintenanceCompanyId") REFERENCES "maintenance_companies"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_elevatorId_fkey" FOREIGN KEY ("elevatorId") REFERENCES "elevators"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alarms" ADD CONSTRAINT "alarms_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alarms" ADD CONSTRAINT "alarms_elevatorId_fkey" FOREIGN KEY ("elevatorId") REFERENCES "elevators"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alarms" ADD CONSTRAINT "alarms_incidentId_fkey" FOREIGN KEY ("incidentId") REFERENCES "incidents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "calls" ADD CONSTRAINT "calls_elevatorId_fkey" FOREIGN KEY ("elevatorId") REFERENCES "elevators"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "calls" ADD CONSTRAINT "calls_incidentId_fkey" FOREIGN KEY ("incidentId") REFERENCES "incidents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mass_events" ADD CONSTRAINT "mass_events_districtId_fkey" FOREIGN KEY ("districtId") REFERENCES "districts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mass_events" ADD CONSTRAINT "mass_events_siteId_fkey" FOREIGN KEY ("siteId") REFERENCES "sites"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_elevatorId_fkey" FOREIGN KEY ("elevatorId") REFERENCES "elevators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_districtId_fkey" FOREIGN KEY ("districtId") REFERENCES "districts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_massEventId_fkey" FOREIGN KEY ("massEventId") REFERENCES "mass_events"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incident_events" ADD CONSTRAINT "incident_events_incidentId_fkey" FOREIGN KEY ("incidentId") REFERENCES "incidents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dispatch_offers" ADD CONSTRAINT "dispatch_offers_incidentId_fkey" FOREIGN KEY ("incidentId") REFERENCES "incidents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dispatch_offers" ADD CONSTRAINT "dispatch_offers_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "teams"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sla_deadlines" ADD CONSTRAINT "sla_deadlines_incidentId_fkey" FOREIGN KEY ("incidentId") REFERENCES "incidents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The incident timeline is append-only: refuse every UPDATE and DELETE of its rows.
CREATE FUNCTION "incident_events_append_only"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'incident_events is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "incident_events_no_change" BEFORE UPDATE OR DELETE ON "incident_events"
  FOR EACH ROW EXECUTE FUNCTION "incident_events_append_only"();
