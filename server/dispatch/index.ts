import type { Logger } from "../platform/logger.ts";
import type { UnitOfWork } from "../platform/outbox/unit-of-work.ts";
import { Answers } from "./answers.ts";
import { Arrival } from "./arrival.ts";
import { StraightLineEstimator, type TravelTimeEstimator } from "./estimator.ts";
import { Offers } from "./offers.ts";
import type { TierPolicy } from "./policy.ts";
import { DispatchRepository } from "./repository.ts";
import { TeamBoard } from "./teams.ts";
import type { PrismaClient } from "../platform/db/generated/client.ts";

export interface DispatchSettings {
  policy: TierPolicy;
  offerTimeoutS: number;
  positionStaleS: number;
  arrivalRadiusM: number;
  slaWarningLeadS: number;
  clock: () => Date;
  estimator?: TravelTimeEstimator;
}

/** The dispatch engine's parts, built together because they share the team board and the repository. */
export interface Dispatch {
  teams: TeamBoard;
  offers: Offers;
  answers: Answers;
  arrival: Arrival;
}

export function createDispatch(prisma: PrismaClient, uow: UnitOfWork, log: Logger, settings: DispatchSettings): Dispatch {
  const repository = new DispatchRepository(prisma);
  const clock = settings.clock;
  const teams = new TeamBoard(repository, uow, {
    staleAfterMs: settings.positionStaleS * 1000,
    policy: settings.policy,
    estimator: settings.estimator ?? new StraightLineEstimator(),
    clock,
  });
  const offers = new Offers(repository, uow, teams, log, { offerTimeoutS: settings.offerTimeoutS, warningLeadS: settings.slaWarningLeadS, clock });
  const answers = new Answers(repository, uow, teams, offers, { offerTimeoutS: settings.offerTimeoutS, clock });
  const arrival = new Arrival(repository, uow, teams, offers, { arrivalRadiusM: settings.arrivalRadiusM, clock });
  return { teams, offers, answers, arrival };
}
