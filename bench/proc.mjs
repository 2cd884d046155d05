// CPU time and memory of another process, from /proc (Linux): for workerd, which shows the
// Worker neither CPU time nor heap size.
import { readdirSync, readFileSync } from "node:fs";

/** The PID of the `workerd` process this Node process started (Miniflare spawns it). */
export function childPid(name) {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = readFileSync(`/proc/${d}/stat`, "utf8").match(/^\d+ \((.*)\) \S (\d+)/);
      if (m && m[1] === name && Number(m[2]) === process.pid) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no ${name} child of ${process.pid}`);
}

/** CPU time of every thread of `pid`, in milliseconds (schedstat: nanoseconds on a CPU). */
export function cpuMs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

/** `VmRSS` (now) or `VmHWM` (the peak so far) of `pid`, in MB. */
export function memMB(pid, field) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return Number(m[1]) / 1024;
}
