// bosun-sandbox: the exec helper for tool processes.
//
//   bosun-sandbox (--bpf-fd N | --bpf-file PATH | --no-seccomp) [--rlimit NAME=VALUE]... [--network none|host]
//                 [--network-best-effort] [--writable PATH]... [--landlock-best-effort]
//                 [--cgroup DIR] [--chdir DIR] -- COMMAND ARGS...
//   bosun-sandbox --check          (prints one JSON object: which layers work on this host)
//
// The worker compiles a profile with libseccomp once (Sources/Sandbox) and passes the BPF program
// (the bytes of seccomp_export_bpf) on an inherited fd, or in a file the worker wrote once per
// profile (--bpf-file, opened O_NOFOLLOW); this helper never parses profiles, so it
// does not link libseccomp. Order: read the program, setsid(), join --cgroup, unshare the network
// (--network none), Landlock (--writable), rlimits, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG(SIGKILL),
// seccomp filter (last: unshare etc. are denied by it), execvp().
//
// Fail closed: any failure before exec prints "bosun-sandbox: ..." on stderr and exits 126 (127 if
// the command is not found); the command never runs with fewer layers than asked for, except
// where --network-best-effort / --landlock-best-effort explicitly allow skipping those layers
// (a warning is printed). Without --bpf-fd the caller must say --no-seccomp (the trusted profile).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SETUP 126
#define EXIT_NOT_FOUND 127
#define MAX_BPF_INSNS 4096
#define MAX_LIST 64

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

__attribute__((format(printf, 2, 3), noreturn)) static void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bosun-sandbox: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

__attribute__((format(printf, 1, 2))) static void warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bosun-sandbox: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(void) {
    die(EXIT_SETUP,
        "usage: bosun-sandbox (--bpf-fd N | --bpf-file PATH | --no-seccomp) [--rlimit NAME=VALUE]... "
        "[--network none|host] [--network-best-effort] [--writable PATH]... [--landlock-best-effort] "
        "[--cgroup DIR] [--chdir DIR] -- COMMAND ARGS...  |  bosun-sandbox --check");
}

struct rlimit_setting {
    int resource;
    rlim_t value;
};

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"cpu_seconds", RLIMIT_CPU},       {"cpu", RLIMIT_CPU},
    {"address_space_bytes", RLIMIT_AS}, {"as", RLIMIT_AS},
    {"open_files", RLIMIT_NOFILE},     {"nofile", RLIMIT_NOFILE},
    {"processes", RLIMIT_NPROC},       {"nproc", RLIMIT_NPROC},
    {"file_size_bytes", RLIMIT_FSIZE}, {"fsize", RLIMIT_FSIZE},
};

static int parse_uint(const char *s, unsigned long long *out) {
    if (*s == '\0' || *s == '-') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') return -1;
    *out = v;
    return 0;
}

static struct rlimit_setting parse_rlimit(const char *arg) {
    const char *eq = strchr(arg, '=');
    if (eq == NULL) die(EXIT_SETUP, "--rlimit %s: expected NAME=VALUE", arg);
    size_t n = (size_t)(eq - arg);
    unsigned long long value;
    if (parse_uint(eq + 1, &value) != 0) die(EXIT_SETUP, "--rlimit %s: value is not a non-negative integer", arg);
    for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++) {
        if (strlen(rlimit_names[i].name) == n && strncmp(rlimit_names[i].name, arg, n) == 0) {
            return (struct rlimit_setting){rlimit_names[i].resource, (rlim_t)value};
        }
    }
    die(EXIT_SETUP, "--rlimit %s: unknown limit (cpu_seconds, address_space_bytes, open_files, processes, file_size_bytes)", arg);
}

// Reads a whole BPF program (struct sock_filter array) from fd and closes the fd.
static struct sock_fprog read_bpf(int fd) {
    size_t cap = (MAX_BPF_INSNS + 1) * sizeof(struct sock_filter);
    unsigned char *buf = malloc(cap);
    if (buf == NULL) die(EXIT_SETUP, "out of memory");
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) die(EXIT_SETUP, "reading the seccomp program from fd %d: %s", fd, strerror(errno));
        if (r == 0) break;
        len += (size_t)r;
        if (len == cap) die(EXIT_SETUP, "seccomp program on fd %d is longer than %d instructions", fd, MAX_BPF_INSNS);
    }
    close(fd);
    if (len == 0) die(EXIT_SETUP, "seccomp program on fd %d is empty", fd);
    if (len % sizeof(struct sock_filter) != 0)
        die(EXIT_SETUP, "seccomp program on fd %d has %zu bytes, not a multiple of %zu", fd, len, sizeof(struct sock_filter));
    return (struct sock_fprog){.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter *)buf};
}

static int write_file(const char *path, const char *data) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = strlen(data);
    ssize_t w = write(fd, data, n);
    int saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)n ? 0 : -1;
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        (void)ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
}

// Returns 0 and names the method used, or -1 with errno from the last attempt.
static int unshare_network(const char **method) {
    if (unshare(CLONE_NEWNET) == 0) {
        *method = "netns";
        return 0;
    }
    if (errno != EPERM) return -1;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return -1;
    char map[64];
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) return -1;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0) return -1;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0) return -1;
    *method = "userns+netns";
    return 0;
}

static long landlock_abi(void) {
    return syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

// Read everywhere; write (create, remove, modify, truncate, rename into) only beneath `paths`.
// Needs PR_SET_NO_NEW_PRIVS (or CAP_SYS_ADMIN) already set. Returns 0, or -1 with a message.
static int apply_landlock(char **paths, int count, char *err, size_t errlen) {
    long abi = landlock_abi();
    if (abi < 1) {
        snprintf(err, errlen, "Landlock is not available on this kernel (%s)", strerror(errno));
        return -1;
    }
    uint64_t file_rights = LANDLOCK_ACCESS_FS_WRITE_FILE;
    uint64_t handled = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                       LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                       LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                       LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2) handled |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) {
        handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
        file_rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    }
    struct {
        uint64_t handled_access_fs;
    } attr = {handled};
    int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) {
        snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
        return -1;
    }
    // Device files every tool expects to write to, plus the caller's paths.
    static const char *devices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts"};
    int total = (int)(sizeof devices / sizeof devices[0]) + count;
    for (int i = 0; i < total; i++) {
        int is_device = i < (int)(sizeof devices / sizeof devices[0]);
        const char *path = is_device ? devices[i] : paths[i - (int)(sizeof devices / sizeof devices[0])];
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
            if (is_device) continue;
            snprintf(err, errlen, "writable path %s: %s", path, strerror(errno));
            close(ruleset);
            return -1;
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
            snprintf(err, errlen, "writable path %s: %s", path, strerror(errno));
            close(fd);
            close(ruleset);
            return -1;
        }
        struct landlock_path_beneath_attr rule = {
            .allowed_access = S_ISDIR(st.st_mode) ? handled : file_rights,
            .parent_fd = fd,
        };
        int r = (int)syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
        int saved = errno;
        close(fd);
        if (r != 0) {
            snprintf(err, errlen, "landlock_add_rule %s: %s", path, strerror(saved));
            close(ruleset);
            return -1;
        }
    }
    if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) {
        snprintf(err, errlen, "landlock_restrict_self: %s", strerror(errno));
        close(ruleset);
        return -1;
    }
    close(ruleset);
    return 0;
}

// --check: try each layer in a throw-away child and print one JSON object.
static int try_in_child(int (*fn)(void)) {
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) _exit(fn() == 0 ? 0 : 1);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
static int check_nnp(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : -1; }
static int check_seccomp(void) {
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {.len = 1, .filter = allow};
    if (check_nnp() != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
static int check_netns_direct(void) { return unshare(CLONE_NEWNET); }
static int check_netns_userns(void) {
    const char *method = NULL;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return -1;
    (void)method;
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)getuid(), (unsigned)getuid());
    (void)write_file("/proc/self/setgroups", "deny");
    return write_file("/proc/self/uid_map", map);
}
static int check_landlock(void) {
    char err[256];
    char *none[] = {NULL};
    if (check_nnp() != 0) return -1;
    return apply_landlock(none, 0, err, sizeof err);
}

static int run_check(void) {
    uint32_t kill_process = SECCOMP_RET_KILL_PROCESS;
    int kill_process_avail = syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_process) == 0;
    long abi = landlock_abi();
    int direct = try_in_child(check_netns_direct);
    int userns = try_in_child(check_netns_userns);
    printf("{\"seccomp\":%s,\"seccomp_kill_process\":%s,\"no_new_privs\":%s,\"netns_direct\":%s,"
           "\"netns_userns\":%s,\"landlock_abi\":%ld,\"landlock\":%s,\"uid\":%u}\n",
           try_in_child(check_seccomp) ? "true" : "false", kill_process_avail ? "true" : "false",
           try_in_child(check_nnp) ? "true" : "false", direct ? "true" : "false", userns ? "true" : "false",
           abi < 0 ? 0 : abi, abi > 0 && try_in_child(check_landlock) ? "true" : "false", (unsigned)getuid());
    return 0;
}

// SwiftPM links every executable through swiftc, which adds swiftrt.o; its undefined references
// (swift_addNewDSOImage registers Swift metadata, of which this C program has none; the backtrace
// hook) would pull the Swift runtime (and libstdc++) into this static executable (8.7 MB instead
// of 0.8 MB; dynamically linked, loading them cost ~1.5 ms per spawn). Defining them here keeps
// the runtime out. If a toolchain adds or renames a symbol, the runtime simply comes back:
// bigger, still correct.
void swift_addNewDSOImage(const void *header);
void swift_addNewDSOImage(const void *header) { (void)header; }
int _swift_backtrace_isThunkFunction(const char *name);
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }

int main(int argc, char **argv) {
    int bpf_fd = -1, no_seccomp = 0, network_none = 0, network_best_effort = 0, landlock_best_effort = 0;
    const char *cgroup = NULL, *chdir_to = NULL;
    char *writable[MAX_LIST];
    int writable_count = 0;
    struct rlimit_setting rlimits[MAX_LIST];
    int rlimit_count = 0;
    int i = 1;

    if (argc == 2 && strcmp(argv[1], "--check") == 0) return run_check();
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        int has_value = i + 1 < argc;
        if (strcmp(a, "--bpf-fd") == 0 && has_value) {
            unsigned long long v;
            if (parse_uint(argv[++i], &v) != 0 || v > 1024) die(EXIT_SETUP, "--bpf-fd %s: not a file descriptor", argv[i]);
            bpf_fd = (int)v;
        } else if (strcmp(a, "--bpf-file") == 0 && has_value) {
            const char *path = argv[++i];
            bpf_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (bpf_fd < 0) die(EXIT_SETUP, "--bpf-file %s: %s", path, strerror(errno));
        } else if (strcmp(a, "--no-seccomp") == 0) {
            no_seccomp = 1;
        } else if (strcmp(a, "--rlimit") == 0 && has_value) {
            if (rlimit_count == MAX_LIST) die(EXIT_SETUP, "too many --rlimit options");
            rlimits[rlimit_count++] = parse_rlimit(argv[++i]);
        } else if (strcmp(a, "--network") == 0 && has_value) {
            const char *v = argv[++i];
            if (strcmp(v, "none") == 0) network_none = 1;
            else if (strcmp(v, "host") == 0) network_none = 0;
            else die(EXIT_SETUP, "--network %s: expected none or host", v);
        } else if (strcmp(a, "--network-best-effort") == 0) {
            network_best_effort = 1;
        } else if (strcmp(a, "--writable") == 0 && has_value) {
            if (writable_count == MAX_LIST) die(EXIT_SETUP, "too many --writable options");
            writable[writable_count++] = argv[++i];
        } else if (strcmp(a, "--landlock-best-effort") == 0) {
            landlock_best_effort = 1;
        } else if (strcmp(a, "--chdir") == 0 && has_value) {
            chdir_to = argv[++i];
        } else if (strcmp(a, "--cgroup") == 0 && has_value) {
            cgroup = argv[++i];
        } else {
            fprintf(stderr, "bosun-sandbox: unknown or incomplete option %s\n", a);
            usage();
        }
    }
    if (i >= argc) usage();
    if (bpf_fd < 0 && !no_seccomp)
        die(EXIT_SETUP, "no seccomp program: pass --bpf-fd N or --bpf-file PATH (or --no-seccomp for the trusted profile)");
    if (bpf_fd >= 0 && no_seccomp) die(EXIT_SETUP, "--bpf-fd/--bpf-file and --no-seccomp are exclusive");

    pid_t parent = getppid();
    struct sock_fprog prog = {0};
    if (bpf_fd >= 0) prog = read_bpf(bpf_fd);

    // Own session and process group: the worker kills the whole group on cancel or timeout.
    // setsid() fails only if we already lead a process group, which is just as good.
    if (setsid() < 0 && getpgrp() != getpid()) die(EXIT_SETUP, "setsid: %s", strerror(errno));

    if (cgroup != NULL) {
        char path[4096], pid[32];
        snprintf(path, sizeof path, "%s/cgroup.procs", cgroup);
        snprintf(pid, sizeof pid, "%d\n", (int)getpid());
        if (write_file(path, pid) != 0) die(EXIT_SETUP, "joining cgroup %s: %s", cgroup, strerror(errno));
    }

    if (chdir_to != NULL && chdir(chdir_to) != 0) die(EXIT_SETUP, "--chdir %s: %s", chdir_to, strerror(errno));

    if (network_none) {
        const char *method = NULL;
        if (unshare_network(&method) == 0) {
            loopback_up();
        } else if (network_best_effort) {
            warn("network namespace unavailable (%s); running with host network (--network-best-effort)", strerror(errno));
        } else {
            die(EXIT_SETUP, "network none: cannot unshare the network namespace: %s", strerror(errno));
        }
    }

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die(EXIT_SETUP, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));

    if (writable_count > 0) {
        char err[512];
        if (apply_landlock(writable, writable_count, err, sizeof err) != 0) {
            if (landlock_best_effort && landlock_abi() < 1) warn("%s; writable paths not enforced (--landlock-best-effort)", err);
            else die(EXIT_SETUP, "%s", err);
        }
    }

    // After the helper's own setup, so a tiny open_files or address_space limit cannot break it.
    for (int r = 0; r < rlimit_count; r++) {
        // Limits only ever tighten: a value above the inherited hard limit is clamped to it.
        struct rlimit lim = {rlimits[r].value, rlimits[r].value}, current;
        if (getrlimit(rlimits[r].resource, &current) == 0 && current.rlim_max != RLIM_INFINITY && lim.rlim_max > current.rlim_max)
            lim.rlim_cur = lim.rlim_max = current.rlim_max;
        if (setrlimit(rlimits[r].resource, &lim) != 0) die(EXIT_SETUP, "setrlimit(%d, %llu): %s", rlimits[r].resource, (unsigned long long)rlimits[r].value, strerror(errno));
    }

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die(EXIT_SETUP, "PR_SET_PDEATHSIG: %s", strerror(errno));
    if (getppid() != parent) die(EXIT_SETUP, "the parent exited before the command started");

    if (bpf_fd >= 0) {
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
            die(EXIT_SETUP, "loading the seccomp filter (%u instructions): %s", (unsigned)prog.len, strerror(errno));
        free(prog.filter);
    }

    execvp(argv[i], argv + i);
    int code = (errno == ENOENT || errno == ENOTDIR) ? EXIT_NOT_FOUND : EXIT_SETUP;
    die(code, "%s: %s", argv[i], strerror(errno));
}
