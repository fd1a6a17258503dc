import { describe, expect, it } from "vitest";
import {
  checkCommandLine,
  parseCommandLine,
  parseDeviceName,
  parseDeviceNumber,
  resolveConfig,
} from "../../cli/args.js";
import { COMMANDS } from "../../cli/commands.js";

const pick = (argv: string[]) => {
  const line = parseCommandLine(argv);
  return { command: line.command, operands: line.operands };
};

describe("choosing the command", () => {
  it("follows losetup without a command word", () => {
    expect(pick(["--find", "--show", "disk.img"])).toEqual({
      command: "find",
      operands: ["disk.img"],
    });
    expect(pick(["-f"])).toEqual({ command: "find", operands: [] });
    expect(pick(["-d", "loop0", "loop1"])).toEqual({
      command: "detach",
      operands: ["loop0", "loop1"],
    });
    expect(pick(["-D"])).toEqual({ command: "detach-all", operands: [] });
    expect(pick(["-l", "-J"])).toEqual({ command: "list", operands: [] });
    expect(pick([])).toEqual({ command: "list", operands: [] });
    expect(pick(["-c", "loop2"])).toEqual({ command: "set-capacity", operands: ["loop2"] });
    expect(pick(["loop3"])).toEqual({ command: "show", operands: ["loop3"] });
    expect(pick(["-o", "1MiB", "loop3", "disk.img"])).toEqual({
      command: "attach",
      operands: ["loop3", "disk.img"],
    });
  });

  it("takes command words and their sub-words", () => {
    expect(pick(["image", "push", "a.img", "base"])).toEqual({
      command: "image push",
      operands: ["a.img", "base"],
    });
    expect(pick(["tenant", "set-max", "demo", "16"])).toEqual({
      command: "tenant set-max",
      operands: ["demo", "16"],
    });
    expect(pick(["read", "loop0"])).toEqual({ command: "read", operands: ["loop0"] });
    expect(pick(["help"]).command).toBe("help");
    expect(pick(["image", "ls", "--help"]).command).toBe("help");
  });

  it("keeps option values, with losetup's short letters", () => {
    const line = parseCommandLine([
      "-f",
      "-r",
      "-P",
      "-b",
      "4096",
      "-o",
      "1M",
      "--sizelimit",
      "2M",
      "x",
    ]);
    expect(line.values).toMatchObject({
      find: true,
      "read-only": true,
      partscan: true,
      "sector-size": "4096",
      offset: "1M",
      sizelimit: "2M",
    });
  });

  it("refuses unknown options, two modes at once and unknown sub-words as usage errors", () => {
    const usage = expect.objectContaining({ errno: "EUSAGE" });
    expect(() => parseCommandLine(["--bogus"])).toThrow(usage);
    expect(() => parseCommandLine(["--offset"])).toThrow(usage);
    expect(() => parseCommandLine(["--find", "--detach", "loop0"])).toThrow(
      /cannot be used together/,
    );
    expect(() => parseCommandLine(["image"])).toThrow(/needs one of: push, pull/);
    expect(() => parseCommandLine(["image", "copy"])).toThrow(/unknown command 'image copy'/);
  });
});

describe("checking a command line", () => {
  const check = (argv: string[]) => {
    const line = parseCommandLine(argv);
    checkCommandLine(line, COMMANDS[line.command]);
  };

  it("refuses an option the command does not take", () => {
    expect(() => check(["image", "ls", "--offset", "5"])).toThrow(
      "option --offset does not apply to 'image ls'",
    );
    expect(() => check(["--detach", "--read-only", "loop0"])).toThrow(/--read-only does not apply/);
  });

  it("counts operands", () => {
    expect(() => check(["--detach"])).toThrow(/missing operand; usage: loopfs --detach loopN/);
    expect(() => check(["image", "pull", "a"])).toThrow(/missing operand/);
    expect(() => check(["status", "loop0", "loop1"])).toThrow(/unexpected operand 'loop1'/);
    expect(() => check(["--find", "--show", "--offset", "1M", "disk.img"])).not.toThrow();
    expect(() => check(["--url", "http://x:1", "image", "ls", "--json"])).not.toThrow();
  });
});

describe("configuration", () => {
  it("takes the environment, flags winning, and a default URL", () => {
    const env = { LOOPFS_URL: "http://env:1/", LOOPFS_TENANT: "a", LOOPFS_TOKEN: "ta" };
    expect(resolveConfig({}, env)).toEqual({
      url: "http://env:1",
      tenant: "a",
      token: "ta",
      operatorToken: undefined,
    });
    expect(resolveConfig({ tenant: "b", token: "tb", "operator-token": "op" }, env)).toMatchObject({
      tenant: "b",
      token: "tb",
      operatorToken: "op",
    });
    expect(resolveConfig({}, {}).url).toBe("http://127.0.0.1:8787");
    expect(() => resolveConfig({ url: "ftp://x" }, {})).toThrow(/invalid URL/);
  });
});

describe("device names", () => {
  it("accepts loopN and /dev/loopN, and numbers with or without the prefix", () => {
    expect(parseDeviceName("loop7")).toBe("loop7");
    expect(parseDeviceName("/dev/loop12")).toBe("loop12");
    expect(() => parseDeviceName("sda")).toThrow(/not a loop device name/);
    expect(() => parseDeviceName("7")).toThrow(/not a loop device name/);
    expect(parseDeviceNumber("5")).toBe(5);
    expect(parseDeviceNumber("loop5")).toBe(5);
    expect(() => parseDeviceNumber("five")).toThrow(/not a device number/);
  });
});
