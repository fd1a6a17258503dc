import { describe, expect, it } from "vitest";
import { CliError, EXIT, exitCodeFor, formatError } from "../../cli/errors.js";
import { createFakeServer, runCli } from "./fake-server.js";

describe("exit codes", () => {
  it("maps each errno family to its documented code", () => {
    const code = (errno: string, status?: number) =>
      exitCodeFor(new CliError(errno, "x", { status }));
    expect(code("EUSAGE")).toBe(2);
    expect(code("EINVAL", 400)).toBe(2);
    expect(code("EOVERFLOW", 400)).toBe(2);
    expect(code("ENOENT", 404)).toBe(3);
    expect(code("ENODEV", 404)).toBe(3);
    for (const errno of ["EBUSY", "EEXIST", "ENXIO", "EROFS"]) expect(code(errno, 409)).toBe(4);
    expect(code("ENOSPC", 507)).toBe(5);
    expect(code("EUNAUTH", 401)).toBe(6);
    expect(code("EACCES", 403)).toBe(6);
    expect(code("EPERM", 403)).toBe(6);
    expect(code("ERANGE", 416)).toBe(7);
    expect(code("EIO", 500)).toBe(1);
    expect(exitCodeFor(new Error("boom"))).toBe(1);
  });

  it("counts any 401 or 403 as authentication whatever its errno", () => {
    expect(exitCodeFor(new CliError("EIO", "x", { status: 403 }))).toBe(EXIT.AUTH);
  });

  it("prints `loopfs: <detail> (<errno>)`", () => {
    expect(formatError(new CliError("ENOENT", "image base not found"))).toBe(
      "loopfs: image base not found (ENOENT)",
    );
  });
});

describe("errors from the server", () => {
  it("prints the problem's detail and errno and exits with its code", async () => {
    const fake = createFakeServer();
    const result = await runCli(fake, ["image", "rm", "missing"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe("loopfs: image missing not found (ENOENT)\n");
    expect(result.stdout).toBe("");
  });

  it("exits 6 on a wrong token", async () => {
    const fake = createFakeServer();
    const result = await runCli(fake, ["image", "ls"], { LOOPFS_TOKEN: "wrong" });
    expect(result.code).toBe(6);
    expect(result.stderr).toBe("loopfs: bad token (EUNAUTH)\n");
  });

  it("exits 6 without sending anything when no token is configured", async () => {
    const fake = createFakeServer();
    const result = await runCli(fake, ["image", "ls"], { LOOPFS_TOKEN: "" });
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/no tenant token: set LOOPFS_TOKEN/);
    expect(fake.requests).toHaveLength(0);
  });

  it("exits 2 for a usage error and points at --help", async () => {
    const result = await runCli(createFakeServer(), ["--find", "--bogus", "x.img"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("loopfs: Unknown option '--bogus'\nTry 'loopfs --help'.\n");
  });

  it("exits 2 for a size it cannot read, before asking the server", async () => {
    const fake = createFakeServer();
    const result = await runCli(fake, ["--find", "--offset", "lots", "x.img"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("loopfs: invalid offset: 'lots' (EINVAL)\n");
    expect(fake.requests).toHaveLength(0);
  });

  it("documents every exit code in --help", async () => {
    const result = await runCli(createFakeServer(), ["--help"]);
    expect(result.code).toBe(0);
    for (const [code, errnos] of [
      [3, "ENOENT, ENODEV"],
      [4, "EBUSY, EEXIST, ENXIO, EROFS"],
      [5, "ENOSPC"],
      [7, "ERANGE"],
    ] as const) {
      expect(result.stdout).toMatch(new RegExp(`\\n  ${code}  .*\\(${errnos}\\)`));
    }
  });
});
