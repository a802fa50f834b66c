/// What the worker needs from the host it runs on: host facts and system metrics for
/// registration and the full heartbeat (Host/), and child processes in their own process
/// groups, per-task cgroups and sd_notify (Process/). Foundation and Glibc only, so it builds fast
/// and tests need no servers.
public enum BosunSystem {}
