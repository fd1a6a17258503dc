/**
 * Every command: what runs it, which options it takes, how many operands, its usage line.
 */

import { discard, read, write } from "./device-io.js";
import { imagePull } from "./image-pull.js";
import { imagePush } from "./image-push.js";
import { imageCreate, imageLs, imageResize, imageRm } from "./images.js";
import * as losetup from "./losetup.js";
import { tenantCreate, tenantInfo, tenantRm, tenantSetMax } from "./tenants.js";

const ATTACH_OPTIONS = ["show", "offset", "sizelimit", "read-only", "partscan", "sector-size"];
const AUTOCLEAR_OPTIONS = ["autoclear", "lease"];

/**
 * @typedef {object} CommandSpec
 * @property {(ctx: import("./losetup.js").Context) => Promise<number>} run
 * @property {string[]} options
 * @property {[number, number]} operands  least and most
 * @property {string} usage
 */

/** @type {Record<string, CommandSpec>} */
export const COMMANDS = {
  find: {
    run: losetup.find,
    options: ["find", ...ATTACH_OPTIONS, ...AUTOCLEAR_OPTIONS],
    operands: [0, 1],
    usage: "--find [--show] [options] [IMAGE]",
  },
  attach: {
    run: losetup.attach,
    options: [...ATTACH_OPTIONS, ...AUTOCLEAR_OPTIONS],
    operands: [2, 2],
    usage: "[options] loopN IMAGE",
  },
  detach: {
    run: losetup.detach,
    options: ["detach"],
    operands: [1, Infinity],
    usage: "--detach loopN...",
  },
  "detach-all": {
    run: losetup.detachAll,
    options: ["detach-all"],
    operands: [0, 0],
    usage: "--detach-all",
  },
  list: {
    run: losetup.list,
    options: ["list", "json"],
    operands: [0, 0],
    usage: "--list [--json]",
  },
  "set-capacity": {
    run: losetup.setCapacity,
    options: ["set-capacity"],
    operands: [1, 1],
    usage: "--set-capacity loopN",
  },
  show: { run: losetup.show, options: [], operands: [1, 1], usage: "loopN" },
  status: { run: losetup.status, options: [], operands: [1, 1], usage: "status loopN" },
  "set-status": {
    run: losetup.setStatus,
    options: [
      "offset",
      "sizelimit",
      "autoclear",
      "no-autoclear",
      "lease",
      "partscan",
      "sector-size",
    ],
    operands: [1, 1],
    usage: "set-status loopN [--offset N] [--sizelimit N] [--[no-]autoclear] [--partscan] ...",
  },
  "device add": { run: losetup.deviceAdd, options: [], operands: [1, 1], usage: "device add N" },
  "device remove": {
    run: losetup.deviceRemove,
    options: [],
    operands: [1, 1],
    usage: "device remove N",
  },
  "device rm": { run: losetup.deviceRm, options: [], operands: [1, 1], usage: "device rm loopN" },
  read: {
    run: read,
    options: ["offset", "length"],
    operands: [1, 1],
    usage: "read loopN [--offset N] [--length N] > FILE",
  },
  write: {
    run: write,
    options: ["offset", "ranges"],
    operands: [2, 2],
    usage: "write loopN [--offset N] [--ranges LIST] FILE",
  },
  discard: {
    run: discard,
    options: ["offset", "length"],
    operands: [1, 1],
    usage: "discard loopN [--offset N] --length N",
  },
  "image push": {
    run: imagePush,
    options: ["chunk-size"],
    operands: [1, 2],
    usage: "image push FILE [NAME] [--chunk-size N]",
  },
  "image pull": { run: imagePull, options: [], operands: [2, 2], usage: "image pull NAME FILE" },
  "image ls": { run: imageLs, options: ["json"], operands: [0, 0], usage: "image ls [--json]" },
  "image rm": { run: imageRm, options: [], operands: [1, 1], usage: "image rm NAME" },
  "image create": {
    run: imageCreate,
    options: ["size", "chunk-size"],
    operands: [1, 1],
    usage: "image create NAME --size N [--chunk-size N]",
  },
  "image resize": {
    run: imageResize,
    options: ["size"],
    operands: [1, 1],
    usage: "image resize NAME --size N",
  },
  "tenant create": {
    run: tenantCreate,
    options: ["max"],
    operands: [1, 1],
    usage: "tenant create TENANT [--max N]",
  },
  "tenant set-max": {
    run: tenantSetMax,
    options: [],
    operands: [2, 2],
    usage: "tenant set-max TENANT N",
  },
  "tenant info": { run: tenantInfo, options: [], operands: [0, 1], usage: "tenant info [TENANT]" },
  "tenant rm": { run: tenantRm, options: [], operands: [1, 1], usage: "tenant rm TENANT" },
};
