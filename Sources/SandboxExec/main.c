// bosun-sandbox: the exec helper that applies a sandbox profile (seccomp, no_new_privs, rlimits,
// its own process group) and execve()s the tool process. It arrives with the sandbox issue;
// until then it refuses to run anything rather than run it unsandboxed.
#include <seccomp.h>
#include <stdio.h>

int main(void) {
    const struct scmp_version *version = seccomp_version();
    fprintf(stderr,
            "bosun-sandbox: not implemented yet (libseccomp %u.%u.%u found); refusing to run a command unsandboxed\n",
            version->major, version->minor, version->micro);
    return 78; // EX_CONFIG
}
