/** The text of `loopfs --help`. */

import { DEFAULT_URL } from "./args.js";
import { EXIT } from "./errors.js";

export const VERSION = "0.1.0";

export const USAGE = `Usage: loopfs [options] COMMAND

Private loop devices over HTTPS. Options follow losetup(8) where they can.

Devices (losetup style):
  loopfs --find [--show] [options] IMAGE   attach IMAGE to the first free device
  loopfs --find                            print the first free device
  loopfs [options] loopN IMAGE             attach IMAGE to loopN (added if missing)
  loopfs loopN                             show what loopN is bound to
  loopfs --detach loopN...                 detach devices
  loopfs --detach-all                      detach every bound device
  loopfs --list [--json]                   list devices (--json: losetup -J shape)
  loopfs --set-capacity loopN              pick up a resized image
  loopfs status loopN                      status as JSON
  loopfs set-status loopN [--offset N] [--sizelimit N] [--autoclear|--no-autoclear]
                          [--lease S] [--partscan] [--sector-size N]
  loopfs device add N | device remove N    loop-control add / remove
  loopfs device rm loopN                   remove the device node (not while bound)
  loopfs read loopN [--offset N] [--length N] > FILE
  loopfs write loopN [--offset N] [--ranges LIST] FILE|-
                                           LIST: lines "OFFSET LENGTH" of FILE to send
  loopfs discard loopN [--offset N] --length N

Attach options:
  -o, --offset N        start N bytes into the image
      --sizelimit N     device size at most N bytes
  -r, --read-only       read-only device
  -P, --partscan        expose partitions as loopNpM
  -b, --sector-size N   logical block size: 512, 1024, 2048 or 4096
      --autoclear       detach by itself when unused for the lease time
      --lease S         lease in seconds with --autoclear (1..86400, default 300)
      --show            print the device name

Images:
  loopfs image push FILE [NAME] [--chunk-size N]   upload; resumes, skips zeros and same chunks
  loopfs image pull NAME FILE                      download into a sparse file; resumes
  loopfs image ls [--json]
  loopfs image create NAME --size N [--chunk-size N]
  loopfs image resize NAME --size N
  loopfs image rm NAME

Tenants:
  loopfs tenant create TENANT [--max N]    operator: mount; prints the tenant token once
  loopfs tenant set-max TENANT N           operator: remount with a new max
  loopfs tenant rm TENANT                  operator: umount, detaching everything
  loopfs tenant info [TENANT]              usage, with the tenant token

Connection (flags win over the environment):
  --url URL              LOOPFS_URL (default ${DEFAULT_URL})
  --tenant T             LOOPFS_TENANT
  --token TOKEN          LOOPFS_TOKEN
  --operator-token TOKEN LOOPFS_OPERATOR_TOKEN

Sizes: bytes, or with K M G T (or KiB MiB GiB TiB) for powers of 1024, KB MB GB TB for 1000.

Results go to stdout, progress and diagnostics to stderr. Exit status:
  ${EXIT.OK}  success
  ${EXIT.FAILURE}  other failure (network, server error)
  ${EXIT.USAGE}  usage error, or the server refused the arguments (EINVAL, EOVERFLOW)
  ${EXIT.NOT_FOUND}  not found (ENOENT, ENODEV)
  ${EXIT.CONFLICT}  busy, exists, not bound or read-only (EBUSY, EEXIST, ENXIO, EROFS)
  ${EXIT.NO_SPACE}  no space: max devices or quota reached (ENOSPC)
  ${EXIT.AUTH}  authentication or permission (401, 403)
  ${EXIT.RANGE}  range beyond the device's end (ERANGE)
  130 interrupted (push and pull resume when run again)
`;
