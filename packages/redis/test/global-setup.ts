import "vitest";
import type { TestProject } from "vitest/node";
import { startRedis, type RedisServer } from "@ipc/test-utils/redis-server";

let server: RedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startRedis();
  project.provide("redisUrl", server.url);
}

export async function teardown(): Promise<void> {
  await server?.dispose();
}

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
