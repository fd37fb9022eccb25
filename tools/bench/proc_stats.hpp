// CPU time and resident memory of a process, from /proc (Linux).
// cpu_seconds() is utime + stime of /proc/PID/stat (clock-tick resolution,
// usually 10 ms, so it is read over a window of seconds); rss_kib() is
// VmRSS of /proc/PID/status. Both return a negative value when the process
// cannot be read.
#pragma once

namespace strata::bench {

double cpu_seconds(int pid);
long rss_kib(int pid);
// CPU time (user + system) of this process.
double self_cpu_seconds();

}  // namespace strata::bench
