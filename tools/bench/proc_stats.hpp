// CPU time and resident memory of a process, from /proc (Linux).
// cpu_seconds() is the process's CPU clock (clock_getcpuclockid: every
// thread, ended ones included, in nanoseconds), the same total that utime
// + stime of /proc/PID/stat round to clock ticks (10 ms: 2–4 % of what a
// broker uses in a 5 s run at 10,000 msg/s); /proc/PID/stat is the
// fallback where that clock cannot be read. rss_kib() is VmRSS of
// /proc/PID/status. Both return a negative value when the process
// cannot be read.
#pragma once

namespace strata::bench {

double cpu_seconds(int pid);
long rss_kib(int pid);
// CPU time (user + system) of this process.
double self_cpu_seconds();

}  // namespace strata::bench
