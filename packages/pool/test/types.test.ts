import { describe, expectTypeOf, it } from "vitest";
import type { AsyncResult, Pool } from "@ipc/pool";
import type * as tasks from "./fixtures/tasks.mjs";

// compile-time checks (run by `pnpm typecheck` / tsc); the runtime body only makes vitest see a test
describe("typed tasks", () => {
  it("checks task names, argument and result types", () => {
    const check = (pool: Pool<typeof tasks>) => {
      expectTypeOf(pool.apply("add", [1, 2])).toEqualTypeOf<Promise<number>>();
      expectTypeOf(pool.apply("slowSquare", [3])).toEqualTypeOf<Promise<number>>();
      expectTypeOf(pool.map("square", [1, 2])).toEqualTypeOf<Promise<number[]>>();
      expectTypeOf(pool.applyAsync("whoami")).toEqualTypeOf<AsyncResult<string>>();
      // @ts-expect-error: not an export of the module
      void pool.apply("nope", []);
      // @ts-expect-error: wrong argument type
      void pool.apply("add", [1, "x"]);
      // @ts-expect-error: map items must be the task's argument type
      void pool.map("square", ["a"]);
    };
    void check;
  });
});
