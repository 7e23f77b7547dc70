import type { TestProject } from "vitest/node";
import { prepareTemplates } from "./database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplateDir: string;
    postgresTemplate: string | null;
  }
}

/** Migrates and seeds one template database per run; every test file then gets a fresh copy of it. */
export default async function setup(project: TestProject) {
  const templates = await prepareTemplates();
  project.provide("pgliteTemplateDir", templates.pgliteTemplateDir);
  project.provide("postgresTemplate", templates.postgresTemplate);
  return templates.cleanup;
}
