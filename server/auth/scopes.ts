import type { PrismaClient } from "../platform/db/generated/client.ts";
import type { SessionUser } from "./roles.ts";
import type { Actor } from "../incidents/service.ts";

/**
 * Resource checks per model (company admins see only their own company's elevators, teams and
 * incidents; rescuers act only for their own team). Everyone else passes: their role rule decided.
 */
export function scopes(prisma: PrismaClient) {
  return {
    async incident(user: SessionUser, incidentId: number): Promise<boolean> {
      if (user.role === "company_admin") {
        const row = await prisma.incident.findUnique({ where: { id: incidentId }, select: { elevator: { select: { maintenanceCompanyId: true } } } });
        return !!row && row.elevator.maintenanceCompanyId === user.maintenanceCompanyId;
      }
      if (user.role === "rescuer") {
        if (user.teamId === null) return false;
        return (await prisma.dispatchOffer.count({ where: { incidentId, teamId: user.teamId } })) > 0;
      }
      return true;
    },
    async offer(user: SessionUser, offerId: number): Promise<boolean> {
      if (user.role !== "rescuer") return true;
      const row = await prisma.dispatchOffer.findUnique({ where: { id: offerId }, select: { teamId: true } });
      return !!row && row.teamId === user.teamId;
    },
    async team(user: SessionUser, teamId: number): Promise<boolean> {
      if (user.role === "rescuer") return user.teamId === teamId;
      if (user.role === "company_admin") {
        const row = await prisma.team.findUnique({ where: { id: teamId }, select: { maintenanceCompanyId: true } });
        return !!row && row.maintenanceCompanyId === user.maintenanceCompanyId;
      }
      return true;
    },
  };
}

/** The timeline's "who" for a signed-in user. */
export const actorOfUser = (user: SessionUser): Actor => ({ type: user.role === "rescuer" ? "team" : "user", id: user.username });
