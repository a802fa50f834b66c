// sandbox-probe: tries each syscall Bosun's profiles deny and prints one JSON line per attempt:
//   {"name":"ptrace","ret":-1,"errno":1}
// Arguments are chosen so that an unfiltered call fails harmlessly (bad fd, NULL pointer, bad
// magic) or succeeds without lasting effect; a filtered call reports the profile's errno.
//   sandbox-probe            all always-deny syscalls plus socket checks and allowed controls
//   sandbox-probe int80      i386 getpid via `int 0x80` (x86_64 only): a filter kills the process
//   sandbox-probe fork N     forks up to N children, reports how many forks worked (RLIMIT_NPROC)
//   sandbox-probe x32        getpid with the x32 bit (0x40000000) set: a filter kills the process
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void report(const char *name, long ret, int err) {
    printf("{\"name\":\"%s\",\"ret\":%ld,\"errno\":%d}\n", name, ret, ret < 0 ? err : 0);
    fflush(stdout);
}

#define TRY(name, expr)                      \
    do {                                     \
        errno = 0;                           \
        long r_ = (long)(expr);              \
        report(name, r_, errno);             \
    } while (0)

static void try_clone(const char *name, unsigned long flags) {
    errno = 0;
    long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    int err = errno;
    if (r == 0) _exit(0);
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    report(name, r < 0 ? -1 : 0, err);
}

static void try_fd_result(const char *name, long r, int err) {
    if (r >= 0) close((int)r);
    report(name, r < 0 ? -1 : 0, err);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "int80") == 0) {
#if defined(__x86_64__)
        long ret = 20; // __NR_getpid on i386
        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
        report("int80_getpid", ret, ret < 0 ? (int)-ret : 0);
        return 0;
#else
        report("int80_getpid", -1, ENOSYS);
        return 2;
#endif
    }
    if (argc > 2 && strcmp(argv[1], "fork") == 0) {
        // Forks up to N children that wait for SIGKILL; reports how many forks worked.
        int wanted = atoi(argv[2]), made = 0, err = 0;
        pid_t kids[256];
        if (wanted > 256) wanted = 256;
        for (; made < wanted; made++) {
            pid_t pid = fork();
            if (pid < 0) { err = errno; break; }
            if (pid == 0) { pause(); _exit(0); }
            kids[made] = pid;
        }
        for (int k = 0; k < made; k++) { kill(kids[k], SIGKILL); waitpid(kids[k], NULL, 0); }
        printf("{\"name\":\"fork\",\"ret\":%d,\"errno\":%d}\n", made, err);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "x32") == 0) {
        TRY("x32_getpid", syscall(0x40000000 | SYS_getpid));
        return 0;
    }

    char c = 'x';
    TRY("ptrace", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, -1, 0, 0));
    TRY("process_vm_readv", syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0));
    TRY("process_vm_writev", syscall(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 0));
    TRY("keyctl", syscall(SYS_keyctl, 9999, 0, 0, 0, 0));
    TRY("add_key", syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
    TRY("request_key", syscall(SYS_request_key, NULL, NULL, NULL, 0));
    TRY("unshare", syscall(SYS_unshare, 0));
    TRY("setns", syscall(SYS_setns, -1, 0));
    try_clone("clone_newns", CLONE_NEWNS);
    try_clone("clone_newcgroup", CLONE_NEWCGROUP);
    try_clone("clone_newuts", CLONE_NEWUTS);
    try_clone("clone_newipc", CLONE_NEWIPC);
    try_clone("clone_newuser", CLONE_NEWUSER);
    try_clone("clone_newpid", CLONE_NEWPID);
    try_clone("clone_newnet", CLONE_NEWNET);
    TRY("clone3", syscall(SYS_clone3, NULL, 0));
    TRY("mount", syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));
    TRY("umount2", syscall(SYS_umount2, "/nonexistent-bosun-probe", 0));
    TRY("fsopen", syscall(SYS_fsopen, NULL, 0));
    TRY("fsconfig", syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
    TRY("fsmount", syscall(SYS_fsmount, -1, 0, 0));
    TRY("fspick", syscall(SYS_fspick, -1, NULL, 0));
    TRY("move_mount", syscall(SYS_move_mount, -1, NULL, -1, NULL, 0));
    TRY("open_tree", syscall(SYS_open_tree, -1, NULL, 0));
    TRY("bpf", syscall(SYS_bpf, 9999, NULL, 0));
    TRY("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    {
        errno = 0;
        long r = syscall(SYS_userfaultfd, 0);
        try_fd_result("userfaultfd", r, errno);
    }
    TRY("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
    TRY("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
    TRY("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
    TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xffffffffUL));
    TRY("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0xffffffffUL));
    TRY("init_module", syscall(SYS_init_module, NULL, 0, ""));
    TRY("finit_module", syscall(SYS_finit_module, -1, "", 0));
    TRY("delete_module", syscall(SYS_delete_module, "bosun_no_such_module", 04000 /* O_NONBLOCK */));
    TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
    TRY("reboot", syscall(SYS_reboot, 0, 0, 0, NULL)); // bad magic: EINVAL when unfiltered
    TRY("ioctl_tiocsti", syscall(SYS_ioctl, -1, TIOCSTI, &c));
    TRY("ioctl_tiocsti_high_bits", syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c));

    // Controls that every profile allows (the result shows the filter is not over-broad).
    TRY("ioctl_tcgets", syscall(SYS_ioctl, -1, TCGETS, NULL));
    try_clone("clone_plain", 0);
    {
        int sv[2];
        errno = 0;
        long r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        int err = errno;
        if (r == 0) { close(sv[0]); close(sv[1]); }
        report("socketpair_unix", r, err);
    }
    errno = 0;
    { long r = socket(AF_UNIX, SOCK_STREAM, 0); try_fd_result("socket_unix", r, errno); }
    errno = 0;
    { long r = socket(AF_INET, SOCK_STREAM, 0); try_fd_result("socket_inet", r, errno); }
    errno = 0;
    { long r = socket(AF_INET6, SOCK_DGRAM, 0); try_fd_result("socket_inet6", r, errno); }
    errno = 0;
    { long r = socket(AF_NETLINK, SOCK_RAW, 0); try_fd_result("socket_netlink", r, errno); }
    return 0;
}
