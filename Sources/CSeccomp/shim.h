#ifndef BOSUN_CSECCOMP_SHIM_H
#define BOSUN_CSECCOMP_SHIM_H
// Shims for libseccomp's function-like macros and for the variadic prctl/syscall, which Swift
// cannot call directly. Only Sources/Sandbox/Seccomp.swift (libseccomp) and
// Sources/Sandbox/SandboxLayers+Probe.swift (prctl/syscall) use them.
#include <seccomp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

static inline uint32_t bosun_scmp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t bosun_scmp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t bosun_scmp_act_kill_thread(void) { return SCMP_ACT_KILL_THREAD; }
static inline uint32_t bosun_scmp_act_trap(void) { return SCMP_ACT_TRAP; }
static inline uint32_t bosun_scmp_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t bosun_scmp_act_errno(uint16_t err) { return SCMP_ACT_ERRNO(err); }
static inline uint32_t bosun_scmp_act_trace(uint16_t msg) { return SCMP_ACT_TRACE(msg); }

static inline uint32_t bosun_scmp_arch_native(void) { return SCMP_ARCH_NATIVE; }
static inline uint32_t bosun_scmp_arch_x86_64(void) { return SCMP_ARCH_X86_64; }
static inline uint32_t bosun_scmp_arch_x86(void) { return SCMP_ARCH_X86; }
static inline uint32_t bosun_scmp_arch_x32(void) { return SCMP_ARCH_X32; }
static inline uint32_t bosun_scmp_arch_aarch64(void) { return SCMP_ARCH_AARCH64; }
static inline uint32_t bosun_scmp_arch_arm(void) { return SCMP_ARCH_ARM; }
static inline uint32_t bosun_scmp_arch_riscv64(void) { return SCMP_ARCH_RISCV64; }
static inline uint32_t bosun_scmp_arch_ppc64le(void) { return SCMP_ARCH_PPC64LE; }
static inline uint32_t bosun_scmp_arch_s390x(void) { return SCMP_ARCH_S390X; }

static inline int bosun_nr_scmp_error(void) { return __NR_SCMP_ERROR; }

// prctl/syscall are variadic.
static inline int bosun_prctl_get_no_new_privs(void) { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }
static inline int bosun_prctl_get_seccomp(void) { return prctl(PR_GET_SECCOMP, 0, 0, 0, 0); }
static inline long bosun_seccomp_action_avail(uint32_t action) {
    return syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
}
static inline long bosun_landlock_abi_version(void) {
    return syscall(444 /* __NR_landlock_create_ruleset */, (void *)0, (unsigned long)0, (unsigned int)1 /* VERSION */);
}
static inline int bosun_pipe_cloexec(int fds[2]) { return (int)syscall(SYS_pipe2, fds, 02000000 /* O_CLOEXEC */); }
static inline int bosun_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */);
}
#endif
