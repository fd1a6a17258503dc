import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

export default defineConfig({
  test: {
    // The Worker logs one JSON line per request; tests show them only when asked to.
    onConsoleLog: (log) =>
      process.env.LOOPFS_TEST_LOGS ? undefined : !log.trimStart().startsWith("{"),
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                OPERATOR_TOKEN: "test-operator-token",
                LOOPFS_GC_GRACE_SECONDS: "0",
                LOOPFS_UPLOAD_TIMEOUT_SECONDS: "60",
              },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          // Builds the sfdisk images the partscan tests read; workerd cannot run programs.
          globalSetup: ["test/fixtures/partition-images.setup.ts"],
        },
      },
      { test: { name: "core", include: ["test/core/**/*.test.ts"], environment: "node" } },
      {
        test: {
          name: "cli",
          environment: "node",
          include: ["test/cli/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          // One wrangler dev shared by most files; files that need their own run one at a time,
          // after the other projects.
          globalSetup: ["test/e2e/shared-server.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
