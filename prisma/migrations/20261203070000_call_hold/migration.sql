-- A call on hold: the latest hold and the latest resume the PBX reported (events may arrive out of order).
ALTER TABLE "calls" ADD COLUMN "heldAt" TIMESTAMP(3);
ALTER TABLE "calls" ADD COLUMN "resumedAt" TIMESTAMP(3);
