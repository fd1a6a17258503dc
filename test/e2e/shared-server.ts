/**
 * One wrangler dev for the test files that only need a server to talk to, started once for
 * the e2e project (globalSetup) instead of once per file. A file that stops the server starts
 * its own with `startDevServer`.
 */

import { inject } from "vitest";
import type { TestProject } from "vitest/node";
import { startDevServer, type DevServer } from "./server";

export type ServerAddress = Pick<DevServer, "url" | "operatorToken" | "persistTo">;

declare module "vitest" {
  export interface ProvidedContext {
    sharedServer: ServerAddress;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startDevServer();
  project.provide("sharedServer", {
    url: server.url,
    operatorToken: server.operatorToken,
    persistTo: server.persistTo,
  });
  return () => server.close();
}

/** The shared server, from inside a test file. */
export function sharedServer(): ServerAddress {
  return inject("sharedServer");
}
